// The conformance cases every Store passes, in one file (over 500 lines) so that a new store
// runs them all with one call to Run.

package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// Run runs the cases every catalog.Store must pass, each on a fresh store
// from newStore and in parallel with the others.
func Run(t *testing.T, newStore func(testing.TB) catalog.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, st catalog.Store)
	}{
		{"Apply", testApply},
		{"CaseInsensitiveLookups", testCaseInsensitive},
		{"Query", testQuery},
		{"RelationsBothDirections", testRelations},
		{"Definitions", testDefinitions},
		{"UpdateAndHistory", testUpdate},
		{"NoOpResync", testNoOp},
		{"Delete", testDelete},
		{"BadFileKeepsLastGood", testBadFile},
		{"WarningsDoNotBlock", testWarnings},
		{"ConflictFirstSourceWins", testConflict},
		{"DuplicateWithinBatch", testDuplicate},
		{"PartialBatches", testPartial},
		{"SourceState", testSourceState},
		{"NotFound", testNotFound},
		{"HostileText", testHostile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, newStore(t))
		})
	}
}

// Descriptor builders. Each returns one YAML document.

func group(name string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  type: team\n  children: []\n", name)
}

func user(name, group string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: %s\nspec:\n  memberOf: [%s]\n", name, group)
}

func component(name, owner string, extra ...string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  title: %s service\n  description: Handles %s.\n  tags: [go, %s]\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n%s",
		name, name, name, strings.ToLower(name), owner, strings.Join(extra, ""))
}

func api(name, owner, definition string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: %s\nspec:\n  type: openapi\n  lifecycle: production\n  owner: %s\n  definition: |\n    %s\n",
		name, owner, strings.ReplaceAll(definition, "\n", "\n    "))
}

// file parses docs as the file path, as a sync would; they must be valid.
func file(tb testing.TB, path string, docs ...string) catalog.FileResult {
	tb.Helper()
	ents, errs := catalog.Parse(strings.NewReader(strings.Join(docs, "---\n")), path)
	if len(errs) > 0 {
		tb.Fatalf("Parse(%s): %v", path, errs)
	}
	return catalog.FileResult{Path: path, Entities: ents}
}

// broken parses text as the file path; it must fail.
func broken(tb testing.TB, path, text string) catalog.FileResult {
	tb.Helper()
	ents, errs := catalog.Parse(strings.NewReader(text), path)
	if len(errs) == 0 {
		tb.Fatalf("Parse(%s) gave no errors", path)
	}
	return catalog.FileResult{Path: path, Entities: ents, Errors: errs}
}

// apply applies one sync and, when st is a catalog.ChangeLog, checks what
// the log says it changed (checkChangeLog).
func apply(tb testing.TB, st catalog.Store, source, commit string, full bool, files ...catalog.FileResult) catalog.SyncResult {
	tb.Helper()
	var before logState
	if _, ok := st.(catalog.ChangeLog); ok {
		before = readLogState(tb, st)
	}
	res, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: source, Repo: "https://git.example.com/" + source, Branch: "main", Commit: commit},
		Full:   full,
		Files:  files,
	})
	if err != nil {
		tb.Fatalf("ApplySync(%s, %s): %v", source, commit, err)
	}
	checkChangeLog(tb, st, before)
	return res
}

func mustEntity(tb testing.TB, st catalog.Store, ref string) *catalog.Entity {
	tb.Helper()
	e, err := st.Entity(context.Background(), catalog.MustParseRef(ref))
	if err != nil {
		tb.Fatalf("Entity(%s): %v", ref, err)
	}
	return e
}

func wantGone(tb testing.TB, st catalog.Store, ref string) {
	tb.Helper()
	if e, err := st.Entity(context.Background(), catalog.MustParseRef(ref)); !errors.Is(err, catalog.ErrNotFound) {
		tb.Errorf("Entity(%s) = %v, %v; want ErrNotFound", ref, e, err)
	}
}

func counts(res catalog.SyncResult) string {
	return fmt.Sprintf("added %d updated %d removed %d unchanged %d errors %d", res.Added, res.Updated, res.Removed, res.Unchanged, len(res.Errors))
}

func wantCounts(tb testing.TB, what string, got catalog.SyncResult, added, updated, removed, unchanged, errs int) {
	tb.Helper()
	want := counts(catalog.SyncResult{Added: added, Updated: updated, Removed: removed, Unchanged: unchanged, Errors: make([]catalog.ProcessingError, errs)})
	if counts(got) != want {
		tb.Errorf("%s = %s, want %s (errors: %v)", what, counts(got), want, got.Errors)
	}
}

func refsOf(es []*catalog.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Ref().String()
	}
	return out
}

func relStrings(rels []catalog.Relation) []string {
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = r.Source.String() + " " + r.Type + " " + r.TargetRef
	}
	slices.Sort(out)
	return out
}

func generation(tb testing.TB, st catalog.Store) int64 {
	tb.Helper()
	g, err := st.Generation(context.Background())
	if err != nil {
		tb.Fatalf("Generation: %v", err)
	}
	return g
}

// shop is a small catalog used by several cases.
func shop(tb testing.TB) []catalog.FileResult {
	return []catalog.FileResult{
		file(tb, "org/groups.yaml", group("payments"), group("platform")),
		file(tb, "org/users.yaml", user("alice", "payments")),
		file(tb, "services/payments-api/catalog-info.yaml",
			component("payments-api", "payments", "  providesApis: [payments]\n  dependsOn: [component:ledger]\n"),
			api("payments", "group:payments", "openapi: 3.0.0\ninfo:\n  title: Payments")),
		file(tb, "services/ledger/catalog-info.yaml", component("ledger", "platform")),
	}
}

func testApply(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	g0 := generation(t, st)
	res := apply(t, st, "acme", "c1", true, shop(t)...)
	wantCounts(t, "ApplySync(shop)", res, 6, 0, 0, 0, 0)
	if g := generation(t, st); g <= g0 {
		t.Errorf("Generation after first sync = %d, want > %d", g, g0)
	}
	e := mustEntity(t, st, "component:default/payments-api")
	if e.Kind != "Component" || e.Metadata.Name != "payments-api" || e.Metadata.Title != "payments-api service" {
		t.Errorf("Entity(payments-api) = kind %q name %q title %q", e.Kind, e.Metadata.Name, e.Metadata.Title)
	}
	if got, want := e.SpecString("owner"), "payments"; got != want {
		t.Errorf("Entity(payments-api).spec.owner = %q, want %q", got, want)
	}
	wantOrigin := catalog.Origin{Source: "acme", Path: "services/payments-api/catalog-info.yaml", Line: 1, Commit: "c1"}
	if e.Origin != wantOrigin {
		t.Errorf("Entity(payments-api).Origin = %+v, want %+v", e.Origin, wantOrigin)
	}
	if e.Metadata.UID == "" || e.Metadata.Etag == "" {
		t.Errorf("Entity(payments-api) uid %q etag %q, want both set", e.Metadata.UID, e.Metadata.Etag)
	}
	if a := mustEntity(t, st, "api:default/payments"); a.Origin.Line < 2 {
		t.Errorf("Entity(api payments).Origin.Line = %d, want the second document's line", a.Origin.Line)
	}
	c, err := st.Counts(ctx)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if want := map[string]int{"Group": 2, "User": 1, "Component": 2, "API": 1}; fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("Counts = %v, want %v", c, want)
	}
	sums, err := st.Summaries(ctx)
	if err != nil {
		t.Fatalf("Summaries: %v", err)
	}
	var got []string
	for _, s := range sums {
		got = append(got, s.Ref.String())
	}
	want := []string{"api:default/payments", "component:default/ledger", "component:default/payments-api",
		"group:default/payments", "group:default/platform", "user:default/alice"}
	if !slices.Equal(got, want) {
		t.Errorf("Summaries refs = %v, want %v", got, want)
	}
	for _, s := range sums {
		if s.Ref.Name != "payments-api" {
			continue
		}
		if s.Owner != "group:default/payments" || s.Type != "service" || s.Lifecycle != "production" ||
			s.Title != "payments-api service" || s.Description != "Handles payments-api." ||
			!slices.Equal(s.Tags, []string{"go", "payments-api"}) || s.Origin != wantOrigin {
			t.Errorf("Summaries[payments-api] = %+v", s)
		}
	}
}

func testCaseInsensitive(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	apply(t, st, "acme", "c1", true, file(t, "a.yaml", group("Payments"), component("Payments-API", "Payments")))
	for _, in := range []string{"component:default/payments-api", "Component:Default/PAYMENTS-API", "COMPONENT:payments-api"} {
		ref, err := catalog.ParseRef(in, "", "")
		if err != nil {
			t.Fatalf("ParseRef(%q): %v", in, err)
		}
		e, err := st.Entity(ctx, ref)
		if err != nil {
			t.Errorf("Entity(%q): %v", in, err)
			continue
		}
		if e.Metadata.Name != "Payments-API" {
			t.Errorf("Entity(%q).Metadata.Name = %q, want the spelling of the file", in, e.Metadata.Name)
		}
	}
	es, err := st.Entities(ctx, catalog.Query{Kind: "component", Name: "PAYMENTS-api", Namespace: "DEFAULT"})
	if err != nil || len(es) != 1 {
		t.Fatalf("Entities(kind component, name PAYMENTS-api) = %v, %v; want one", refsOf(es), err)
	}
	owner := catalog.MustParseRef("Group:PAYMENTS")
	if es, err := st.Entities(ctx, catalog.Query{Owner: &owner}); err != nil || len(es) != 1 {
		t.Errorf("Entities(owner Group:PAYMENTS) = %v, %v; want one", refsOf(es), err)
	}
	if rels, err := st.Relations(ctx, catalog.MustParseRef("GROUP:default/Payments")); err != nil || len(rels) != 1 {
		t.Errorf("Relations(GROUP:default/Payments) = %v, %v; want ownerOf", relStrings(rels), err)
	}
}

func testQuery(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	apply(t, st, "acme", "c1", true, shop(t)...)
	payments := catalog.MustParseRef("group:payments")
	tests := []struct {
		q    catalog.Query
		want []string
	}{
		{catalog.Query{}, []string{"api:default/payments", "component:default/ledger", "component:default/payments-api",
			"group:default/payments", "group:default/platform", "user:default/alice"}},
		{catalog.Query{Kind: "Component"}, []string{"component:default/ledger", "component:default/payments-api"}},
		{catalog.Query{Owner: &payments}, []string{"api:default/payments", "component:default/payments-api"}},
		{catalog.Query{Owner: &payments, Kind: "api"}, []string{"api:default/payments"}},
		{catalog.Query{Name: "payments"}, []string{"api:default/payments", "group:default/payments"}},
		{catalog.Query{Limit: 2}, []string{"api:default/payments", "component:default/ledger"}},
		{catalog.Query{Refs: []catalog.Ref{catalog.MustParseRef("user:alice"), catalog.MustParseRef("component:nope"), catalog.MustParseRef("group:platform")}},
			[]string{"group:default/platform", "user:default/alice"}},
		{catalog.Query{Refs: []catalog.Ref{}}, nil},
		{catalog.Query{Namespace: "other"}, nil},
	}
	for _, tt := range tests {
		es, err := st.Entities(ctx, tt.q)
		if err != nil {
			t.Errorf("Entities(%+v): %v", tt.q, err)
			continue
		}
		if got := refsOf(es); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Entities(%+v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	es, err := st.Entities(ctx, catalog.Query{Kind: "Component", Limit: 1})
	if err != nil || len(es) != 1 {
		t.Fatalf("Entities(component, limit 1) = %v, %v", refsOf(es), err)
	}
	if got := relStrings(es[0].Relations); !slices.Equal(got, []string{"component:default/ledger ownedBy group:default/platform"}) &&
		!slices.Contains(got, "component:default/ledger dependencyOf component:default/payments-api") {
		t.Errorf("Entities(component, limit 1)[0].Relations = %v", got)
	}
}

func testRelations(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	apply(t, st, "acme", "c1", true, shop(t)...)
	e := mustEntity(t, st, "component:payments-api")
	want := []string{
		"component:default/payments-api dependsOn component:default/ledger",
		"component:default/payments-api ownedBy group:default/payments",
		"component:default/payments-api providesApi api:default/payments",
	}
	if got := relStrings(e.Relations); !slices.Equal(got, want) {
		t.Errorf("Entity(payments-api).Relations = %v, want %v", got, want)
	}
	for _, r := range e.Relations {
		if r.TargetRef != r.Target.String() {
			t.Errorf("relation %s: TargetRef %q != Target %q", r.Type, r.TargetRef, r.Target)
		}
	}
	rels, err := st.Relations(ctx, catalog.MustParseRef("group:payments"))
	if err != nil {
		t.Fatalf("Relations(group:payments): %v", err)
	}
	want = []string{
		"group:default/payments hasMember user:default/alice",
		"group:default/payments ownerOf api:default/payments",
		"group:default/payments ownerOf component:default/payments-api",
	}
	if got := relStrings(rels); !slices.Equal(got, want) {
		t.Errorf("Relations(group:payments) = %v, want %v", got, want)
	}
	if rels, err := st.Relations(ctx, catalog.MustParseRef("component:ledger")); err != nil ||
		!slices.Contains(relStrings(rels), "component:default/ledger dependencyOf component:default/payments-api") {
		t.Errorf("Relations(component:ledger) = %v, %v; want the inverse dependencyOf", relStrings(rels), err)
	}
	owned, err := st.RelationsOfType(ctx, catalog.RelOwnedBy)
	if err != nil {
		t.Fatalf("RelationsOfType(ownedBy): %v", err)
	}
	want = []string{
		"api:default/payments ownedBy group:default/payments",
		"component:default/ledger ownedBy group:default/platform",
		"component:default/payments-api ownedBy group:default/payments",
	}
	if got := relStrings(owned); !slices.Equal(got, want) {
		t.Errorf("RelationsOfType(ownedBy) = %v, want %v", got, want)
	}
	// A relation to a missing entity is kept, and answered for it.
	apply(t, st, "acme", "c2", false, file(t, "services/ledger/catalog-info.yaml", component("ledger", "ghosts")))
	if rels, err := st.Relations(ctx, catalog.MustParseRef("group:ghosts")); err != nil ||
		!slices.Equal(relStrings(rels), []string{"group:default/ghosts ownerOf component:default/ledger"}) {
		t.Errorf("Relations(group:ghosts) = %v, %v; want ownerOf ledger", relStrings(rels), err)
	}
	if rels, _ := st.Relations(ctx, catalog.MustParseRef("group:platform")); len(rels) != 0 {
		t.Errorf("Relations(group:platform) after owner change = %v, want none", relStrings(rels))
	}
}

func testDefinitions(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	def := "openapi: 3.0.0\ninfo:\n  title: Payments"
	apply(t, st, "acme", "c1", true, file(t, "a.yaml", api("payments", "team", def), api("billing", "team", def)))
	e := mustEntity(t, st, "api:payments")
	if _, ok := e.Spec["definition"]; ok {
		t.Errorf("Entity(api:payments).Spec has definition; want it left out")
	}
	got, err := st.Definition(ctx, catalog.MustParseRef("API:Payments"))
	if err != nil || strings.TrimSpace(got) != def {
		t.Errorf("Definition(api:payments) = %q, %v; want %q", got, err, def)
	}
	es, err := st.Entities(ctx, catalog.Query{Kind: "API", WithDefinitions: true})
	if err != nil || len(es) != 2 {
		t.Fatalf("Entities(API, WithDefinitions) = %v, %v", refsOf(es), err)
	}
	for _, e := range es {
		if d, _ := e.Spec["definition"].(string); strings.TrimSpace(d) != def {
			t.Errorf("Entities(WithDefinitions): %s definition = %q, want %q", e.Ref(), d, def)
		}
	}
	// Changing one API's definition leaves the other's.
	apply(t, st, "acme", "c2", true, file(t, "a.yaml", api("payments", "team", "openapi: 3.1.0"), api("billing", "team", def)))
	if got, err := st.Definition(ctx, catalog.MustParseRef("api:payments")); err != nil || strings.TrimSpace(got) != "openapi: 3.1.0" {
		t.Errorf("Definition(api:payments) after change = %q, %v", got, err)
	}
	if got, err := st.Definition(ctx, catalog.MustParseRef("api:billing")); err != nil || strings.TrimSpace(got) != def {
		t.Errorf("Definition(api:billing) after the other changed = %q, %v", got, err)
	}
	if _, err := st.Definition(ctx, catalog.MustParseRef("api:nope")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Definition(api:nope) error = %v, want ErrNotFound", err)
	}
	apply(t, st, "acme", "c3", true, file(t, "a.yaml", group("team")))
	if _, err := st.Definition(ctx, catalog.MustParseRef("api:billing")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Definition(api:billing) after removal error = %v, want ErrNotFound", err)
	}
}

func testUpdate(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	apply(t, st, "acme", "c1", true, shop(t)...)
	g1 := generation(t, st)
	files := shop(t)
	files[3] = file(t, "services/ledger/catalog-info.yaml", component("ledger", "payments"))
	res := apply(t, st, "acme", "c2", true, files...)
	wantCounts(t, "ApplySync(ledger owner changed)", res, 0, 1, 0, 5, 0)
	if g := generation(t, st); g <= g1 {
		t.Errorf("Generation after update = %d, want > %d", g, g1)
	}
	e := mustEntity(t, st, "component:ledger")
	if e.SpecString("owner") != "payments" || e.Origin.Commit != "c2" {
		t.Errorf("Entity(ledger) owner %q commit %q, want payments c2", e.SpecString("owner"), e.Origin.Commit)
	}
	if p := mustEntity(t, st, "component:payments-api"); p.Origin.Commit != "c1" {
		t.Errorf("Entity(payments-api).Origin.Commit = %q, want c1 (unchanged since)", p.Origin.Commit)
	}
	ch, err := st.OwnershipChanges(ctx, before)
	if err != nil {
		t.Fatalf("OwnershipChanges: %v", err)
	}
	var got []string
	for _, c := range ch {
		got = append(got, fmt.Sprintf("%s %q->%q %s", c.Entity, c.Old, c.New, c.Commit))
		if c.At.Before(before) || c.At.After(time.Now().Add(time.Second)) {
			t.Errorf("OwnershipChange %s At = %v, want about now", c.Entity, c.At)
		}
	}
	want := []string{
		`api:default/payments ""->"group:default/payments" c1`,
		`component:default/ledger ""->"group:default/platform" c1`,
		`component:default/payments-api ""->"group:default/payments" c1`,
		`component:default/ledger "group:default/platform"->"group:default/payments" c2`,
	}
	// Rows of one sync share a time; compare the first sync's as a set.
	if len(got) != len(want) || !slices.Equal(sorted(got[:3]), want[:3]) || got[3] != want[3] {
		t.Errorf("OwnershipChanges = %q, want %q", got, want)
	}
	if later, err := st.OwnershipChanges(ctx, time.Now().Add(time.Minute)); err != nil || len(later) != 0 {
		t.Errorf("OwnershipChanges(future) = %v, %v; want none", later, err)
	}
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func testNoOp(t *testing.T, st catalog.Store) {
	apply(t, st, "acme", "c1", true, shop(t)...)
	g := generation(t, st)
	res := apply(t, st, "acme", "c2", true, shop(t)...)
	wantCounts(t, "ApplySync(same files)", res, 0, 0, 0, 6, 0)
	if g2 := generation(t, st); g2 != g {
		t.Errorf("Generation after a no-op sync = %d, want %d", g2, g)
	}
	// A document moving down its file changes its line: an update.
	files := shop(t)
	files[3] = file(t, "services/ledger/catalog-info.yaml", "# moved\n"+component("ledger", "platform"))
	res = apply(t, st, "acme", "c3", true, files...)
	wantCounts(t, "ApplySync(ledger moved down a line)", res, 0, 1, 0, 5, 0)
	if e := mustEntity(t, st, "component:ledger"); e.Origin.Line != 2 {
		t.Errorf("Entity(ledger).Origin.Line = %d, want 2", e.Origin.Line)
	}
}

func testDelete(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	apply(t, st, "acme", "c1", true, shop(t)...)
	files := shop(t)
	res := apply(t, st, "acme", "c2", true, files[:3]...)
	wantCounts(t, "ApplySync(ledger file gone)", res, 0, 0, 1, 5, 0)
	wantGone(t, st, "component:ledger")
	if rels, err := st.Relations(ctx, catalog.MustParseRef("group:platform")); err != nil || len(rels) != 0 {
		t.Errorf("Relations(group:platform) after ledger removed = %v, %v; want none", relStrings(rels), err)
	}
	// payments-api still depends on ledger: its own edge stays.
	if got := relStrings(mustEntity(t, st, "component:payments-api").Relations); !slices.Contains(got, "component:default/payments-api dependsOn component:default/ledger") {
		t.Errorf("Entity(payments-api).Relations = %v, want dependsOn ledger kept", got)
	}
	ch, err := st.OwnershipChanges(ctx, before)
	if err != nil || len(ch) == 0 {
		t.Fatalf("OwnershipChanges = %v, %v", ch, err)
	}
	if last := ch[len(ch)-1]; last.Entity.String() != "component:default/ledger" || last.Old != "group:default/platform" || last.New != "" || last.Commit != "c2" {
		t.Errorf("last OwnershipChange = %+v, want ledger platform -> \"\" at c2", last)
	}
	// An entity dropped from a file that still exists is removed too.
	files[2] = file(t, "services/payments-api/catalog-info.yaml", component("payments-api", "payments"))
	res = apply(t, st, "acme", "c3", true, files[:3]...)
	wantCounts(t, "ApplySync(api dropped from its file)", res, 0, 1, 1, 3, 0)
	wantGone(t, st, "api:payments")
}

func testBadFile(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	apply(t, st, "acme", "c1", true, shop(t)...)
	files := shop(t)
	files[3] = broken(t, "services/ledger/catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger\nspec:\n  owner: [unclosed\n")
	files[2] = file(t, "services/payments-api/catalog-info.yaml", component("payments-api", "platform"))
	res := apply(t, st, "acme", "c2", true, files...)
	wantCounts(t, "ApplySync(ledger broken, payments-api changed)", res, 0, 1, 1, 3, len(files[3].Errors))
	e := mustEntity(t, st, "component:ledger")
	if e.SpecString("owner") != "platform" || e.Origin.Commit != "c1" {
		t.Errorf("Entity(ledger) after its file broke: owner %q commit %q, want the last good (platform, c1)", e.SpecString("owner"), e.Origin.Commit)
	}
	if got := mustEntity(t, st, "component:payments-api").SpecString("owner"); got != "platform" {
		t.Errorf("Entity(payments-api).owner = %q: a broken file must not block the others", got)
	}
	perrs, err := st.ProcessingErrors(ctx, "acme")
	if err != nil || len(perrs) == 0 {
		t.Fatalf("ProcessingErrors(acme) = %v, %v; want the broken file's", perrs, err)
	}
	for _, pe := range perrs {
		if pe.Source != "acme" || pe.Path != "services/ledger/catalog-info.yaml" || pe.Line < 1 || pe.Message == "" {
			t.Errorf("ProcessingError = %+v, want acme, the ledger file, a line and a message", pe)
		}
	}
	if all, err := st.ProcessingErrors(ctx, ""); err != nil || len(all) != len(perrs) {
		t.Errorf("ProcessingErrors(\"\") = %v, %v; want %d", all, err, len(perrs))
	}
	if other, err := st.ProcessingErrors(ctx, "other"); err != nil || len(other) != 0 {
		t.Errorf("ProcessingErrors(other) = %v, %v; want none", other, err)
	}
	// Fixing the file clears its errors and applies it.
	res = apply(t, st, "acme", "c3", true, shop(t)...)
	wantCounts(t, "ApplySync(ledger fixed)", res, 1, 1, 0, 4, 0)
	if perrs, err := st.ProcessingErrors(ctx, "acme"); err != nil || len(perrs) != 0 {
		t.Errorf("ProcessingErrors(acme) after the fix = %v, %v; want none", perrs, err)
	}
}

// testWarnings stores a Location whose target is missing, as Backstage
// does, with the problem recorded against its file until it goes away.
func testWarnings(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	loc := "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: services\nspec:\n  targets: [./gone/catalog-info.yaml]\n"
	f := file(t, "catalog-info.yaml", loc)
	f.Warnings = []catalog.ProcessingError{{Line: 1, Message: `location services target "./gone/catalog-info.yaml": no such file gone/catalog-info.yaml`}}
	res := apply(t, st, "acme", "c1", true, f, file(t, "org/groups.yaml", group("payments")))
	wantCounts(t, "ApplySync(Location with a missing target)", res, 2, 0, 0, 0, 1)
	mustEntity(t, st, "location:default/services")
	want := catalog.ProcessingError{Source: "acme", Path: "catalog-info.yaml", Line: 1, Message: f.Warnings[0].Message}
	if len(res.Errors) != 1 || res.Errors[0] != want {
		t.Errorf("ApplySync(Location with a missing target).Errors = %v, want [%v]", res.Errors, want)
	}
	if perrs, err := st.ProcessingErrors(ctx, "acme"); err != nil || len(perrs) != 1 || perrs[0] != want {
		t.Errorf("ProcessingErrors(acme) = %v, %v; want [%v]", perrs, err, want)
	}
	// A partial batch of the file alone, now with its target present, clears
	// the warning and keeps the entity.
	res = apply(t, st, "acme", "c2", false, file(t, "catalog-info.yaml", loc))
	wantCounts(t, "ApplySync(partial, warning gone)", res, 0, 0, 0, 1, 0)
	if perrs, err := st.ProcessingErrors(ctx, "acme"); err != nil || len(perrs) != 0 {
		t.Errorf("ProcessingErrors(acme) after the fix = %v, %v; want none", perrs, err)
	}
	mustEntity(t, st, "location:default/services")
}

func testConflict(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	apply(t, st, "first", "a1", true, file(t, "catalog-info.yaml", component("shared", "alpha")))
	res := apply(t, st, "second", "b1", true, file(t, "catalog-info.yaml", component("shared", "beta"), component("own", "beta")))
	wantCounts(t, "ApplySync(second claims shared)", res, 1, 0, 0, 0, 1)
	if len(res.Errors) == 1 {
		pe := res.Errors[0]
		if pe.Source != "second" || pe.Path != "catalog-info.yaml" || pe.Line != 1 || !strings.Contains(pe.Message, "component:default/shared") {
			t.Errorf("conflict error = %+v, want second's file, line 1, naming the ref", pe)
		}
	}
	e := mustEntity(t, st, "component:shared")
	if e.Origin.Source != "first" || e.SpecString("owner") != "alpha" {
		t.Errorf("Entity(shared) = source %q owner %q, want the first source's", e.Origin.Source, e.SpecString("owner"))
	}
	if perrs, err := st.ProcessingErrors(ctx, "second"); err != nil || len(perrs) != 1 {
		t.Errorf("ProcessingErrors(second) = %v, %v; want the conflict", perrs, err)
	}
	// The newcomer's sync never removes the first source's entity.
	apply(t, st, "second", "b2", true, file(t, "catalog-info.yaml", component("own", "beta")))
	mustEntity(t, st, "component:shared")
	// Once the first source lets go, the second may take it.
	apply(t, st, "first", "a2", true)
	wantGone(t, st, "component:shared")
	res = apply(t, st, "second", "b3", true, file(t, "catalog-info.yaml", component("own", "beta"), component("shared", "beta")))
	wantCounts(t, "ApplySync(second takes the freed ref)", res, 1, 0, 0, 1, 0)
	if e := mustEntity(t, st, "component:shared"); e.Origin.Source != "second" {
		t.Errorf("Entity(shared).Origin.Source = %q, want second", e.Origin.Source)
	}
}

func testDuplicate(t *testing.T, st catalog.Store) {
	res := apply(t, st, "acme", "c1", true,
		file(t, "a.yaml", component("dup", "alpha")),
		file(t, "b.yaml", group("beta"), component("dup", "beta")))
	wantCounts(t, "ApplySync(dup in two files)", res, 2, 0, 0, 0, 1)
	if e := mustEntity(t, st, "component:dup"); e.Origin.Path != "a.yaml" {
		t.Errorf("Entity(dup).Origin.Path = %q, want a.yaml (first wins)", e.Origin.Path)
	}
	if len(res.Errors) == 1 && (res.Errors[0].Path != "b.yaml" || res.Errors[0].Line < 2) {
		t.Errorf("duplicate error = %+v, want b.yaml at the second document", res.Errors[0])
	}
	// Moving an entity between files in one full sync is an update.
	res = apply(t, st, "acme", "c2", true, file(t, "a.yaml"), file(t, "b.yaml", group("beta"), component("dup", "beta")))
	wantCounts(t, "ApplySync(dup moved to b.yaml)", res, 0, 1, 0, 1, 0)
	if e := mustEntity(t, st, "component:dup"); e.Origin.Path != "b.yaml" || e.SpecString("owner") != "beta" {
		t.Errorf("Entity(dup) = %s owner %q, want b.yaml beta", e.Origin.Path, e.SpecString("owner"))
	}
}

func testPartial(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	apply(t, st, "acme", "c1", true, shop(t)...)
	// One changed file; the others are not mentioned and stay.
	res := apply(t, st, "acme", "c2", false, file(t, "services/ledger/catalog-info.yaml", component("ledger", "payments"), component("ledger-worker", "payments")))
	wantCounts(t, "partial ApplySync(ledger)", res, 1, 1, 0, 0, 0)
	if es, err := st.Entities(ctx, catalog.Query{}); err != nil || len(es) != 7 {
		t.Errorf("Entities after partial sync = %v, %v; want 7", refsOf(es), err)
	}
	// A broken file in a partial batch keeps its entities and records the
	// error for that file only.
	bad := broken(t, "services/ledger/catalog-info.yaml", "kind: [\n")
	res = apply(t, st, "acme", "c3", false, bad)
	wantCounts(t, "partial ApplySync(ledger broken)", res, 0, 0, 0, 0, len(bad.Errors))
	mustEntity(t, st, "component:ledger-worker")
	other := broken(t, "services/payments-api/catalog-info.yaml", "kind: [\n")
	apply(t, st, "acme", "c4", false, other)
	if perrs, err := st.ProcessingErrors(ctx, "acme"); err != nil || len(perrs) != 2 {
		t.Errorf("ProcessingErrors after two partial failures = %v, %v; want both files'", perrs, err)
	}
	apply(t, st, "acme", "c5", false, file(t, "services/payments-api/catalog-info.yaml",
		component("payments-api", "payments", "  providesApis: [payments]\n  dependsOn: [component:ledger]\n"),
		api("payments", "group:payments", "openapi: 3.0.0\ninfo:\n  title: Payments")))
	perrs, err := st.ProcessingErrors(ctx, "acme")
	if err != nil || len(perrs) != 1 || perrs[0].Path != "services/ledger/catalog-info.yaml" {
		t.Errorf("ProcessingErrors after fixing payments-api = %v, %v; want only ledger's", perrs, err)
	}
	// A removed file takes its entities along.
	res = apply(t, st, "acme", "c6", false, catalog.FileResult{Path: "services/ledger/catalog-info.yaml", Removed: true})
	wantCounts(t, "partial ApplySync(ledger removed)", res, 0, 0, 2, 0, 0)
	wantGone(t, st, "component:ledger-worker")
	wantGone(t, st, "component:ledger")
	mustEntity(t, st, "component:payments-api")
	if perrs, err := st.ProcessingErrors(ctx, "acme"); err != nil || len(perrs) != 0 {
		t.Errorf("ProcessingErrors after removing the broken file = %v, %v; want none", perrs, err)
	}
	// A partial batch may not take a ref another file of the source holds.
	res = apply(t, st, "acme", "c7", false, file(t, "elsewhere.yaml", group("payments")))
	wantCounts(t, "partial ApplySync(group payments in a new file)", res, 0, 0, 0, 0, 1)
	if e := mustEntity(t, st, "group:payments"); e.Origin.Path != "org/groups.yaml" {
		t.Errorf("Entity(group:payments).Origin.Path = %q, want org/groups.yaml", e.Origin.Path)
	}
}

func testSourceState(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	if _, err := st.Source(ctx, "acme"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Source(acme) before any sync error = %v, want ErrNotFound", err)
	}
	before := time.Now().Add(-time.Second)
	_, err := st.ApplySync(ctx, catalog.SyncBatch{
		Source: catalog.Source{Name: "acme", Repo: "https://git.example.com/acme", Branch: "main", Commit: "c1", CodeOwners: "* @acme/payments\n"},
		Full:   true,
		Files:  shop(t),
	})
	if err != nil {
		t.Fatalf("ApplySync: %v", err)
	}
	src, err := st.Source(ctx, "acme")
	if err != nil {
		t.Fatalf("Source(acme): %v", err)
	}
	if src.Repo != "https://git.example.com/acme" || src.Branch != "main" || src.Commit != "c1" || src.Status != "ok" ||
		src.CodeOwners != "* @acme/payments\n" || src.SyncedAt.Before(before) {
		t.Errorf("Source(acme) = %+v", src)
	}
	if err := st.RecordSourceError(ctx, catalog.Source{Name: "acme", Repo: "https://git.example.com/acme", Branch: "main"}, "clone: connection refused"); err != nil {
		t.Fatalf("RecordSourceError: %v", err)
	}
	if err := st.RecordSourceError(ctx, catalog.Source{Name: "never", Repo: "ssh://git@example.com/never"}, "auth failed"); err != nil {
		t.Fatalf("RecordSourceError(never synced): %v", err)
	}
	srcs, err := st.Sources(ctx)
	if err != nil || len(srcs) != 2 {
		t.Fatalf("Sources = %+v, %v; want 2", srcs, err)
	}
	if s := srcs[0]; s.Name != "acme" || s.Status != "error" || s.Message != "clone: connection refused" || s.Commit != "c1" || !s.SyncedAt.Equal(src.SyncedAt) {
		t.Errorf("Sources[0] after RecordSourceError = %+v, want error status, commit and time kept", s)
	}
	if s := srcs[1]; s.Name != "never" || s.Status != "error" || !s.SyncedAt.IsZero() {
		t.Errorf("Sources[1] = %+v, want never with error status and no sync time", s)
	}
	mustEntity(t, st, "component:ledger")
}

func testNotFound(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	wantGone(t, st, "component:nothing")
	if es, err := st.Entities(ctx, catalog.Query{Kind: "Component"}); err != nil || len(es) != 0 {
		t.Errorf("Entities on an empty store = %v, %v", refsOf(es), err)
	}
	if rels, err := st.Relations(ctx, catalog.MustParseRef("component:nothing")); err != nil || len(rels) != 0 {
		t.Errorf("Relations(nothing) = %v, %v; want none, no error", rels, err)
	}
	if c, err := st.Counts(ctx); err != nil || len(c) != 0 {
		t.Errorf("Counts on an empty store = %v, %v", c, err)
	}
	if _, err := st.Generation(ctx); err != nil {
		t.Errorf("Generation on an empty store: %v", err)
	}
	if _, err := st.ApplySync(ctx, catalog.SyncBatch{Full: true}); err == nil {
		t.Errorf("ApplySync(source without a name) succeeded, want an error")
	}
}

func testHostile(t *testing.T, st catalog.Store) {
	ctx := context.Background()
	title := "Robert'); DROP TABLE entities;-- \\N \t\u00e9\u4e16\U0001F600"
	doc := fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bobby\n  title: %q\n  description: \"line1\\nline2\\ttab \\\\ back\"\nspec:\n  type: service\n  owner: team\n  lifecycle: \"%%s%%d\"\n", title)
	f := file(t, "weird path/with 'quotes' and \\.yaml", doc)
	if len(f.Errors) > 0 {
		t.Fatalf("Parse(hostile) errors: %v", f.Errors)
	}
	apply(t, st, "acme; DROP", "c1", true, f)
	e := mustEntity(t, st, "component:bobby")
	if e.Metadata.Title != title || e.Metadata.Description != "line1\nline2\ttab \\ back" || e.SpecString("lifecycle") != "%s%d" {
		t.Errorf("Entity(bobby) = title %q description %q lifecycle %q; want them verbatim", e.Metadata.Title, e.Metadata.Description, e.SpecString("lifecycle"))
	}
	if e.Origin.Path != "weird path/with 'quotes' and \\.yaml" || e.Origin.Source != "acme; DROP" {
		t.Errorf("Entity(bobby).Origin = %+v", e.Origin)
	}
	sums, err := st.Summaries(ctx)
	if err != nil || len(sums) != 1 || sums[0].Title != title {
		t.Errorf("Summaries = %+v, %v", sums, err)
	}
}
