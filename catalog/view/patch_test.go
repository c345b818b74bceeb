package view

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// benchWords make up the titles, descriptions and tags of generated
// summaries.
var benchWords = []string{"payments", "ledger", "checkout", "fraud", "detector", "worker", "search", "billing",
	"reports", "events", "invoice", "gateway", "stream", "cache", "auth", "profile", "orders", "stock"}

// genSummaries returns n summaries shaped like the bench catalog's (mostly
// services owned by teams, some teams, people, systems and Locations),
// sorted by canonical ref as Store.Summaries returns them.
func genSummaries(rng *rand.Rand, n int) []catalog.Summary {
	pick := func(k int) []string {
		out := make([]string, 0, k)
		for range k {
			out = append(out, benchWords[rng.IntN(len(benchWords))])
		}
		return out
	}
	sums := make([]catalog.Summary, 0, n)
	for i := range n {
		var sm catalog.Summary
		switch {
		case i%100 == 0:
			sm.Ref = catalog.Ref{Kind: catalog.KindGroup, Namespace: "default", Name: fmt.Sprintf("team-%d", i/100)}
			sm.Title = "Team " + strings.Join(pick(1), " ")
		case i%100 == 1:
			sm.Ref = catalog.Ref{Kind: catalog.KindUser, Namespace: "default", Name: fmt.Sprintf("person-%d", i)}
		case i%100 == 2:
			sm.Ref = catalog.Ref{Kind: catalog.KindLocation, Namespace: "default", Name: fmt.Sprintf("repo-%d", i)}
		case i%50 == 3:
			sm.Ref = catalog.Ref{Kind: catalog.KindSystem, Namespace: "default", Name: fmt.Sprintf("system-%d", i)}
			sm.Owner = fmt.Sprintf("team-%d", rng.IntN(n/100+1))
		default:
			sm.Ref = catalog.Ref{Kind: catalog.KindComponent, Namespace: "default", Name: fmt.Sprintf("service-%d", i)}
			sm.Title = strings.Join(pick(rng.IntN(3)), " ")
			sm.Description = "Serves " + strings.Join(pick(2+rng.IntN(6)), ", ")
			sm.Tags = pick(rng.IntN(3))
			sm.Owner = fmt.Sprintf("group:default/team-%d", rng.IntN(n/100+1))
			sm.Type, sm.Lifecycle = "service", "production"
		}
		sums = append(sums, sm)
	}
	sortSummaries(sums)
	return sums
}

// sortSummaries sorts sums by canonical ref, as Store.Summaries does.
func sortSummaries(sums []catalog.Summary) {
	slices.SortFunc(sums, func(a, b catalog.Summary) int { return strings.Compare(a.Ref.String(), b.Ref.String()) })
}

// BenchmarkBuild measures a full build of the snapshot of 100,000
// summaries: what every change cost before patches.
func BenchmarkBuild(b *testing.B) {
	sums := genSummaries(rand.New(rand.NewPCG(1, 2)), 100000)
	b.ReportAllocs()
	for b.Loop() {
		buildSnapshot(2, sums)
	}
}

// propWords make up the names, titles, descriptions, tags and owners of
// TestPatchMatchesBuild's catalogs: few, so that searches find many.
var propWords = []string{"payments", "ledger", "checkout", "fraud", "api", "db", "worker", "ünïcode", "billing", "team"}

// randSummary returns a summary of ref with random fields.
func randSummary(rng *rand.Rand, ref catalog.Ref) catalog.Summary {
	sm := catalog.Summary{Ref: ref}
	randField(rng, &sm, -1)
	return sm
}

// randField sets field f of sm (0 owner, 1 title, 2 description, 3 tags;
// -1 all) to random values.
func randField(rng *rand.Rand, sm *catalog.Summary, f int) {
	pick := func(n int) []string {
		var out []string
		for range n {
			out = append(out, propWords[rng.IntN(len(propWords))])
		}
		return out
	}
	if f < 0 || f == 0 {
		switch rng.IntN(4) {
		case 0:
			sm.Owner = ""
		case 1:
			sm.Owner = "team-" + fmt.Sprint(rng.IntN(5)) // short form: canonicalised by the view
		default:
			sm.Owner = "group:default/team-" + fmt.Sprint(rng.IntN(5))
		}
	}
	if f < 0 || f == 1 {
		sm.Title = strings.Join(pick(rng.IntN(3)), "  ")
	}
	if f < 0 || f == 2 {
		sm.Description = strings.Join(pick(rng.IntN(5)), ", ")
		if rng.IntN(5) == 0 {
			// A word no other entity has: the typo index's vocabulary
			// grows, and shrinks again when it goes.
			sm.Description += " novel" + strconv.Itoa(rng.IntN(1000))
		}
	}
	if f < 0 || f == 3 {
		sm.Tags = pick(rng.IntN(3))
	}
}

// randRef returns a ref of a random kind and name; names repeat across
// kinds and namespaces.
func randRef(rng *rand.Rand) catalog.Ref {
	kinds := []string{catalog.KindComponent, catalog.KindComponent, catalog.KindAPI, catalog.KindGroup, catalog.KindLocation, catalog.KindSystem}
	name := propWords[rng.IntN(len(propWords))] + "-" + fmt.Sprint(rng.IntN(60))
	if rng.IntN(4) == 0 {
		name = strings.ToUpper(name[:1]) + name[1:] // refs compare case-insensitively
	}
	ns := "default"
	if rng.IntN(8) == 0 {
		ns = "other"
	}
	return catalog.Ref{Kind: kinds[rng.IntN(len(kinds))], Namespace: ns, Name: name}
}

// TestPatchMatchesBuild applies random syncs (entities added, updated in
// owner, title, description or tags, removed, renamed, or changed in
// relations only) to a store with a change log, and checks after each
// that the view's snapshot, patched from the previous one, is the
// snapshot built from scratch from the same summaries: the same entries
// and maps, the same search indexes, and the same answers to lookups,
// searches, completions and suggestions.
func TestPatchMatchesBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 1))
	var sums []catalog.Summary
	seen := map[string]bool{}
	for range 300 {
		r := randRef(rng)
		if !seen[r.String()] {
			seen[r.String()] = true
			sums = append(sums, randSummary(rng, r))
		}
	}
	st := newLogStore(sums)
	x := New(Params{Store: st})
	ctx := context.Background()
	if _, err := x.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for round := range 150 {
		st.mu.Lock()
		keys := slices.Sorted(maps.Keys(st.sums))
		var did []string
		for range 1 + rng.IntN(6) {
			k := keys[rng.IntN(len(keys))]
			sm, ok := st.sums[k]
			switch op := rng.IntN(8); {
			case op == 0 || !ok: // add (or re-add)
				r := randRef(rng)
				st.setLocked(randSummary(rng, r), false)
				did = append(did, "add "+r.String())
			case op <= 3: // update one field
				f := rng.IntN(4)
				randField(rng, &sm, f)
				st.setLocked(sm, false)
				did = append(did, fmt.Sprintf("update %s field %d", k, f))
			case op == 4:
				st.setLocked(sm, true)
				did = append(did, "remove "+k)
			case op == 5: // rename
				st.setLocked(sm, true)
				sm.Ref.Name = randRef(rng).Name
				st.setLocked(sm, false)
				did = append(did, "rename "+k+" to "+sm.Ref.String())
			case op == 6: // relations only: the summary is the same
				st.touchLocked(sm.Ref)
				did = append(did, "touch "+k)
			default: // a summary rewritten as it was
				st.setLocked(sm, false)
				did = append(did, "rewrite "+k)
			}
		}
		st.mu.Unlock()
		st.commit()
		x.Expire()
		got, err := x.Snapshot(ctx)
		if err != nil {
			t.Fatalf("round %d: Snapshot() = %v", round, err)
		}
		want := buildSnapshot(st.gen, st.sorted())
		if n, _ := st.calls(); n != 1 {
			t.Fatalf("round %d: Summaries called %d times; want once, the first build, and patches since", round, n)
		}
		if d := diffBuilds(got.b, want, rng); d != "" {
			t.Fatalf("round %d (%s): patched snapshot differs from a full build: %s", round, strings.Join(did, "; "), d)
		}
	}
}

// diffBuilds describes the first difference found between got and want,
// "" when none: every field, then queries drawn from rng.
func diffBuilds(got, want *build, rng *rand.Rand) string {
	if got.gen != want.gen {
		return fmt.Sprintf("generation %d, want %d", got.gen, want.gen)
	}
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"entries", got.entries, want.entries},
		{"byRef", got.byRef, want.byRef},
		{"byName", got.byName, want.byName},
		{"byTitle", got.byTitle, want.byTitle},
		{"owned", got.owned, want.owned},
		{"names", got.names, want.names},
		{"locations", got.locations, want.locations},
		{"locAt", got.locAt, want.locAt},
		{"name index", got.nameIdx(), want.nameIdx()},
		{"text index", got.textIdx(), want.textIdx()},
		{"word index", got.wordIdx(), want.wordIdx()},
	} {
		if d := firstDiff(reflect.ValueOf(f.got), reflect.ValueOf(f.want)); d != "" {
			return f.name + d
		}
	}
	gs, ws := Snapshot{b: got}, Snapshot{b: want}
	keys := func(es []*Entry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Key())
		}
		return strings.Join(out, ",")
	}
	listed := func(s Snapshot) string {
		var out []*Entry
		for e := range s.Summaries {
			out = append(out, e)
		}
		return keys(out)
	}
	if g, w := listed(gs), listed(ws); g != w {
		return fmt.Sprintf("Summaries listing %s, want %s", g, w)
	}
	typo := func(w string) string {
		r := []rune(w)
		i := rng.IntN(len(r))
		r[i] = 'q'
		return string(r)
	}
	for range 40 {
		w := propWords[rng.IntN(len(propWords))]
		lo := rng.IntN(len(w))
		sub := w[lo : lo+1+rng.IntN(len(w)-lo)]
		terms := []string{sub}
		if rng.IntN(3) == 0 {
			terms = append(terms, propWords[rng.IntN(len(propWords))][:2])
		}
		gh, gn := gs.Search(terms, 10)
		wh, wn := ws.Search(terms, 10)
		if keys(gh) != keys(wh) || gn != wn {
			return fmt.Sprintf("Search(%q) = %s, %d; want %s, %d", terms, keys(gh), gn, keys(wh), wn)
		}
		near := []string{typo(w)}
		gh, gn, gt := gs.SearchNear(near, 10)
		wh, wn, wt := ws.SearchNear(near, 10)
		if keys(gh) != keys(wh) || gn != wn || !slices.Equal(gt, wt) {
			return fmt.Sprintf("SearchNear(%q) = %s, %d, %q; want %s, %d, %q", near, keys(gh), gn, gt, keys(wh), wn, wt)
		}
		for _, kinds := range [][]string{nil, {catalog.KindGroup}} {
			if g, w := keys(gs.Complete(sub, kinds, 10)), keys(ws.Complete(sub, kinds, 10)); g != w {
				return fmt.Sprintf("Complete(%q, %v) = %s, want %s", sub, kinds, g, w)
			}
		}
		q := typo(w) + "-" + fmt.Sprint(rng.IntN(60))
		if g, w := gs.Nearest(q, 5), ws.Nearest(q, 5); !slices.Equal(g, w) {
			return fmt.Sprintf("Nearest(%q) = %q, want %q", q, g, w)
		}
	}
	return ""
}

// firstDiff describes where got and want, two slices or maps or other
// values, first differ: the index or key and both values there; "" when
// they are deeply equal.
func firstDiff(got, want reflect.Value) string {
	if reflect.DeepEqual(got.Interface(), want.Interface()) {
		return ""
	}
	switch got.Kind() {
	case reflect.Slice:
		for i := range min(got.Len(), want.Len()) {
			if !reflect.DeepEqual(got.Index(i).Interface(), want.Index(i).Interface()) {
				return fmt.Sprintf("[%d] = %+v, want %+v", i, got.Index(i), want.Index(i))
			}
		}
		return fmt.Sprintf(": %d elements, want %d", got.Len(), want.Len())
	case reflect.Map:
		for _, k := range want.MapKeys() {
			g, w := got.MapIndex(k), want.MapIndex(k)
			if !g.IsValid() {
				return fmt.Sprintf("[%v] missing, want %+v", k, w)
			}
			if !reflect.DeepEqual(g.Interface(), w.Interface()) {
				return fmt.Sprintf("[%v] = %+v, want %+v", k, g, w)
			}
		}
		return fmt.Sprintf(": %d keys, want %d", got.Len(), want.Len())
	}
	return fmt.Sprintf(" = %+v, want %+v", got, want)
}

// TestPatchFallsBack checks that the view reads every summary again when
// the store keeps no change log, or its log does not reach back, fails,
// or lists more changes than a patch takes, and that the result is right.
func TestPatchFallsBack(t *testing.T) {
	for _, tt := range []struct {
		name        string
		noLog       bool
		prepare     func(st *logStore)
		changes     int
		summariesOf int // calls expected
	}{
		{name: "no change log", noLog: true, changes: 3},
		{name: "log pruned", prepare: func(st *logStore) { st.logFrom = st.gen + 1 }, changes: 3},
		{name: "log fails", prepare: func(st *logStore) { st.changesErr = errors.New("relation \"changes\" does not exist") }, changes: 3},
		{name: "summaries of changes fail", prepare: func(st *logStore) { st.summariesOfErr = errors.New("bad tags") }, changes: 3, summariesOf: 1},
		{name: "too many changes", changes: maxPatchRefs + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			st := newLogStore(genSummaries(rng, 3000))
			var store catalog.Store = st
			if tt.noLog {
				store = struct{ catalog.Store }{st} // hides Changes and SummariesOf
			}
			x := New(Params{Store: store})
			ctx := context.Background()
			if _, err := x.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(st)
			}
			keys := slices.Sorted(maps.Keys(st.sums))
			for i := range tt.changes {
				sm := st.sums[keys[i]]
				sm.Owner = "group:default/team-new"
				st.set(sm, false)
			}
			st.commit()
			x.Expire()
			s, err := x.Snapshot(ctx)
			if err != nil {
				t.Fatalf("Snapshot() = %v", err)
			}
			if n, of := st.calls(); n != 2 || of != tt.summariesOf {
				t.Errorf("Summaries calls %d, SummariesOf calls %d; want 2 (a full rebuild), %d", n, of, tt.summariesOf)
			}
			if d := diffBuilds(s.b, buildSnapshot(st.gen, st.sorted()), rng); d != "" {
				t.Errorf("rebuilt snapshot differs from a full build: %s", d)
			}
		})
	}
}

// TestPatchUnavailable checks that a change log the store cannot answer
// leaves the snapshot as it was, served as Cached, rather than reading
// every summary from a store that is down.
func TestPatchUnavailable(t *testing.T) {
	st := newLogStore(genSummaries(rand.New(rand.NewPCG(3, 3)), 500))
	now := time.Unix(1000, 0)
	x := New(Params{Store: st, Now: func() time.Time { return now }})
	ctx := context.Background()
	s0, err := x.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	st.changesErr = fmt.Errorf("changes: %w", catalog.ErrUnavailable)
	st.mu.Unlock()
	st.set(catalog.Summary{Ref: catalog.MustParseRef("component:default/new")}, false)
	st.commit()
	now = now.Add(2 * RefreshEvery)
	s, err := x.Snapshot(ctx)
	if err != nil || s.b != s0.b || !s.Cached() {
		t.Errorf("Snapshot() with the change log down = generation %d, cached %v, %v; want generation %d cached", s.Generation(), s.Cached(), err, s0.Generation())
	}
	if n, _ := st.calls(); n != 1 {
		t.Errorf("Summaries calls %d; want 1, none after the change log failed", n)
	}
}

// BenchmarkPatch measures patching the snapshot of 100,000 summaries
// with the changes of a one-file sync (BenchmarkBuild is the full build
// it replaces), without and with its search indexes: one service's owner
// changed, which also changes its old and new team (inverse relations);
// or ten services added and ten removed.
func BenchmarkPatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	sums := genSummaries(rng, 100000)
	base := buildSnapshot(1, sums)
	svc := slices.IndexFunc(sums, func(sm catalog.Summary) bool { return sm.Ref.Kind == catalog.KindComponent })
	owner := sums[svc]
	owner.Owner = "group:default/team-1"
	byRef := map[string]catalog.Summary{}
	for _, sm := range sums {
		byRef[sm.Ref.String()] = sm
	}
	oldTeam, newTeam := sums[svc].Owner, "group:default/team-1"
	var addRemove []catalog.Summary
	var addRemoveKeys []string
	for i := range 10 {
		add := sums[svc+i]
		add.Ref.Name += "-new"
		addRemove = append(addRemove, add)
		addRemoveKeys = append(addRemoveKeys, add.Ref.String(), sums[svc+100+i].Ref.String())
	}
	slices.Sort(addRemoveKeys)
	for _, bc := range []struct {
		name    string
		changed []string
		sums    []catalog.Summary
	}{
		{"owner", []string{owner.Ref.String(), oldTeam, newTeam}, []catalog.Summary{owner, byRef[oldTeam], byRef[newTeam]}},
		{"add-remove-10", addRemoveKeys, addRemove},
	} {
		slices.Sort(bc.changed)
		sortSummaries(bc.sums)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				patch(base, 2, bc.changed, bc.sums)
			}
		})
		// The search indexes too, as the view builds them after
		// publishing a patch.
		b.Run(bc.name+"/indexes", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				patch(base, 2, bc.changed, bc.sums).index()
			}
		})
	}
}
