package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest/portal"
	"github.com/portalbot/portalbot/catalog/ingest/portal/portaltest"
)

const (
	token    = "s3cret-static-token"
	byQuery  = "/api/catalog/entities/by-query"
	byRefsEP = "/api/catalog/entities/by-refs"
)

// newSyncer returns a Syncer reading the token from a fake environment,
// with small pages (so paging is exercised on the recorded catalog) and
// no waiting between attempts.
func newSyncer(st catalog.Store, tok string) *portal.Syncer {
	return portal.New(st, portal.Options{
		Getenv: func(k string) string {
			if k == portal.DefaultTokenEnv {
				return tok
			}
			return ""
		},
		Limits: portal.Limits{PageSize: 4, RequestTimeout: 5 * time.Second},
		Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
}

// apiView is what the API serves of each entity: its relations, by ref.
func apiView(ents []map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, e := range ents {
		var rels []string
		rs, _ := e["relations"].([]any)
		for _, r := range rs {
			m := r.(map[string]any)
			rels = append(rels, m["type"].(string)+" "+strings.ToLower(m["targetRef"].(string)))
		}
		sort.Strings(rels)
		out[portaltest.Ref(e)] = rels
	}
	return out
}

// storeView is the same view of the store's entities of one source.
func storeView(t *testing.T, st catalog.Store, source string) map[string][]string {
	t.Helper()
	ents, err := st.Entities(context.Background(), catalog.Query{})
	if err != nil {
		t.Fatalf("Entities: %v", err)
	}
	out := map[string][]string{}
	for _, e := range ents {
		if e.Origin.Source != source {
			continue
		}
		rels := []string{}
		for _, r := range e.Relations {
			rels = append(rels, r.Type+" "+strings.ToLower(r.TargetRef))
		}
		sort.Strings(rels)
		out[e.Ref().String()] = rels
	}
	return out
}

func diffViews(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for ref, w := range want {
		g, ok := got[ref]
		if !ok {
			t.Errorf("store lacks %s", ref)
			continue
		}
		if len(w) == 0 {
			w = []string{}
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("relations of %s = %v, want %v (as served)", ref, g, w)
		}
	}
	for ref := range got {
		if _, ok := want[ref]; !ok {
			t.Errorf("store has %s, which the API does not serve", ref)
		}
	}
}

// TestSyncRecorded syncs the catalog recorded from a real Backstage
// backend and requires the same entities and relations, with Backstage's
// uid, etag, annotations and links, on both stores.
func TestSyncRecorded(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			ents := portaltest.Recorded(t)
			srv := portaltest.NewServer(t, token, ents)
			res, err := newSyncer(st, token).Sync(ctx, portal.Source{Name: "portal", URL: srv.URL})
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if res.Added != len(ents) || len(res.Errors) != 0 {
				t.Errorf("Sync = %d added, errors %v; want %d added, none", res.Added, res.Errors, len(ents))
			}
			diffViews(t, storeView(t, st, "portal"), apiView(ents))

			api, err := st.Entity(ctx, catalog.MustParseRef("component:default/payments-api"))
			if err != nil {
				t.Fatalf("Entity(payments-api): %v", err)
			}
			var served map[string]any
			for _, e := range ents {
				if portaltest.Ref(e) == "component:default/payments-api" {
					served = e
				}
			}
			md := served["metadata"].(map[string]any)
			if api.Metadata.UID != md["uid"] || api.Metadata.Etag != md["etag"] {
				t.Errorf("payments-api uid, etag = %s, %s; want Backstage's %s, %s", api.Metadata.UID, api.Metadata.Etag, md["uid"], md["etag"])
			}
			if got := api.Metadata.Annotations[catalog.AnnotationTechDocsRef]; got != "dir:." {
				t.Errorf("payments-api techdocs-ref = %q, want dir:.", got)
			}
			if len(api.Metadata.Links) != 1 || api.Metadata.Links[0].Title != "Dashboard" {
				t.Errorf("payments-api links = %+v, want the Dashboard link", api.Metadata.Links)
			}
			if o, _ := api.Owner(); o.String() != "group:default/payments" {
				t.Errorf("payments-api owner = %s, want group:default/payments", o)
			}
			owned, err := st.Entities(ctx, catalog.Query{Owner: ptr(catalog.MustParseRef("group:payments"))})
			if err != nil || len(owned) == 0 {
				t.Errorf("Entities(owner payments) = %d, %v; want the team's entities", len(owned), err)
			}
			def, err := st.Definition(ctx, catalog.MustParseRef("api:payments-rest"))
			if err != nil || !strings.Contains(def, "openapi: 3.0.0") {
				t.Errorf("Definition(payments-rest) = %q, %v", def, err)
			}
			orphan, err := st.Entity(ctx, catalog.MustParseRef("component:legacy-billing"))
			if err != nil || orphan.Metadata.Annotations[catalog.AnnotationOrphan] != "true" {
				t.Errorf("legacy-billing orphan annotation missing: %v", err)
			}
			if _, err := st.Entity(ctx, catalog.MustParseRef("location:acme-portal")); err != nil {
				t.Errorf("Location acme-portal not kept: %v", err)
			}
			src, err := st.Source(ctx, "portal")
			if err != nil || src.Status != "ok" || src.Repo != srv.URL {
				t.Errorf("Source(portal) = %+v, %v; want ok with the URL", src, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// entity returns a deep copy of the recorded entity named ref.
func entity(t *testing.T, ents []map[string]any, ref string) map[string]any {
	t.Helper()
	for _, e := range ents {
		if portaltest.Ref(e) == ref {
			b, _ := json.Marshal(e)
			var c map[string]any
			_ = json.Unmarshal(b, &c)
			return c
		}
	}
	t.Fatalf("no recorded entity %s", ref)
	return nil
}

func setRelations(e map[string]any, rels ...string) {
	var out []any
	for _, r := range rels {
		typ, target, _ := strings.Cut(r, " ")
		out = append(out, map[string]any{"type": typ, "targetRef": target})
	}
	e["relations"] = out
}

// TestSyncIncremental: a re-pull with nothing changed fetches no entity in
// full and changes nothing; after an owner change (which changes the etags
// of the entity and of both groups, as Backstage's stitching does) and an
// unregistered entity, the next sync fetches only those and follows both.
func TestSyncIncremental(t *testing.T) {
	ctx := context.Background()
	st := sqlstoretest.OpenSQLite(t)
	ents := portaltest.Recorded(t)
	srv := portaltest.NewServer(t, token, ents)
	sy := newSyncer(st, token)
	src := portal.Source{Name: "portal", URL: srv.URL}
	if _, err := sy.Sync(ctx, src); err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	refs := srv.Requests(byRefsEP)
	res, err := sy.Sync(ctx, src)
	if err != nil {
		t.Fatalf("no-op Sync: %v", err)
	}
	if !res.NoOp || res.Files != 0 || res.Unchanged != len(ents) || srv.Requests(byRefsEP) != refs {
		t.Errorf("no-op Sync = %+v, %d by-refs calls; want NoOp, nothing fetched, %d unchanged", res, srv.Requests(byRefsEP)-refs, len(ents))
	}

	// web-shop moves from platform to payments; legacy-billing is
	// unregistered.
	var next []map[string]any
	for _, e := range ents {
		switch portaltest.Ref(e) {
		case "component:default/legacy-billing":
			continue
		case "component:default/web-shop":
			e = entity(t, ents, "component:default/web-shop")
			e["spec"].(map[string]any)["owner"] = "payments"
			e["metadata"].(map[string]any)["etag"] = "changed-web-shop"
			setRelations(e, "apiConsumedBy api:default/payments-rest", "ownedBy group:default/payments")
		case "group:default/payments", "group:default/platform":
			ref := portaltest.Ref(e)
			e = entity(t, ents, ref)
			e["metadata"].(map[string]any)["etag"] = "changed-" + ref
			var rels []string
			for _, r := range e["relations"].([]any) {
				m := r.(map[string]any)
				if m["targetRef"] == "component:default/web-shop" || m["targetRef"] == "component:default/legacy-billing" {
					continue
				}
				rels = append(rels, m["type"].(string)+" "+m["targetRef"].(string))
			}
			if ref == "group:default/payments" {
				rels = append(rels, "ownerOf component:default/web-shop")
			}
			setRelations(e, rels...)
		}
		next = append(next, e)
	}
	srv.SetEntities(next)
	res, err = sy.Sync(ctx, src)
	if err != nil {
		t.Fatalf("Sync after changes: %v", err)
	}
	if res.Updated != 3 || res.Removed != 1 || res.Files != 3 {
		t.Errorf("Sync after changes = %d updated, %d removed, %d fetched; want 3, 1, 3", res.Updated, res.Removed, res.Files)
	}
	diffViews(t, storeView(t, st, "portal"), apiView(next))
	e, err := st.Entity(ctx, catalog.MustParseRef("component:web-shop"))
	if err != nil {
		t.Fatalf("Entity(web-shop): %v", err)
	}
	if o, _ := e.Owner(); o.String() != "group:default/payments" {
		t.Errorf("web-shop owner = %s, want group:default/payments", o)
	}
	if _, err := st.Entity(ctx, catalog.MustParseRef("component:legacy-billing")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Entity(legacy-billing) after unregistering = %v, want ErrNotFound", err)
	}
	changes, err := st.OwnershipChanges(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(changes, func(c catalog.OwnershipChange) bool {
		return c.Entity.String() == "component:default/web-shop" && c.Old == "group:default/platform" && c.New == "group:default/payments"
	}) {
		t.Errorf("OwnershipChanges lacks web-shop platform -> payments: %+v", changes)
	}
}

// TestSyncFailures: each failure names the URL and the status, never the
// token, is recorded on the source, and keeps the last good state.
func TestSyncFailures(t *testing.T) {
	html := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>Sign in</html>")
	})
	loop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[{"kind":"Group","metadata":{"name":"x","namespace":"default","uid":"u","etag":"e"}}],"pageInfo":{"nextCursor":"same"}}`)
	})
	huge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[`+strings.Repeat(" ", 2<<20)+`]}`)
	})
	notJSON := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items": [oops`)
	})
	tests := []struct {
		name  string
		token string
		setup func(s *portaltest.Server)
		want  []string // substrings of the error
	}{
		{"wrong token", "not-the-token", nil, []string{"by-query", "401 Unauthorized", "Illegal token"}},
		{"forbidden", token, func(s *portaltest.Server) { s.FailNext(byQuery, 403, 403, 403) }, []string{"by-query", "403 Forbidden"}},
		{"server error after retries", token, func(s *portaltest.Server) { s.FailNext(byQuery, 500, 502, 503) }, []string{"by-query", "503 Service Unavailable"}},
		{"by-refs fails", token, func(s *portaltest.Server) { s.FailNext(byRefsEP, 500, 500, 500) }, []string{"by-refs", "500 Internal Server Error"}},
		{"html page", token, func(s *portaltest.Server) { s.Handle(byQuery, html) }, []string{"by-query", "not JSON", "text/html"}},
		{"broken json", token, func(s *portaltest.Server) { s.Handle(byQuery, notJSON) }, []string{"by-query", "not the JSON expected"}},
		{"cursor loop", token, func(s *portaltest.Server) { s.Handle(byQuery, loop) }, []string{"by-query", "cursor loop"}},
		{"response too large", token, func(s *portaltest.Server) { s.Handle(byQuery, huge) }, []string{"by-query", "larger than"}},
		{"unreachable", token, func(s *portaltest.Server) { s.Close() }, []string{"by-query", "connect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := sqlstoretest.OpenSQLite(t)
			ents := portaltest.Recorded(t)
			srv := portaltest.NewServer(t, token, ents)
			src := portal.Source{Name: "portal", URL: srv.URL}
			if _, err := newSyncer(st, token).Sync(ctx, src); err != nil {
				t.Fatalf("first Sync: %v", err)
			}
			before := storeView(t, st, "portal")
			// Something changed, so the failing sync has work to lose.
			changed := entity(t, ents, "component:default/web-shop")
			changed["metadata"].(map[string]any)["etag"] = "new"
			srv.SetEntities(append(slices.Clone(ents[:len(ents)-1]), changed))
			if tt.setup != nil {
				tt.setup(srv)
			}
			sy := portal.New(st, portal.Options{
				Getenv: func(string) string { return tt.token },
				Limits: portal.Limits{PageSize: 4, RequestTimeout: 5 * time.Second, MaxResponseBytes: 1 << 20},
				Sleep:  func(ctx context.Context, d time.Duration) error { return ctx.Err() },
			})
			_, err := sy.Sync(ctx, src)
			if err == nil {
				t.Fatalf("Sync succeeded, want an error")
			}
			msg := err.Error()
			for _, w := range append(tt.want, srv.URL) {
				if !strings.Contains(msg, w) {
					t.Errorf("Sync error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, token) || tt.token != token && strings.Contains(msg, tt.token) {
				t.Errorf("Sync error %q shows the token", msg)
			}
			diffViews(t, storeView(t, st, "portal"), before)
			s, err := st.Source(ctx, "portal")
			if err != nil || s.Status != "error" || s.Message == "" || !strings.HasSuffix(msg, s.Message) {
				t.Errorf("Source(portal) = %+v, %v; want status error with the message", s, err)
			}
		})
	}
}

// TestSyncRetries: a 503 and then an answer is a successful sync, after
// one wait.
func TestSyncRetries(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	srv := portaltest.NewServer(t, token, portaltest.Recorded(t))
	srv.FailNext(byQuery, 503)
	var waits []time.Duration
	sy := portal.New(st, portal.Options{
		Getenv: func(string) string { return token },
		Sleep:  func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	})
	if _, err := sy.Sync(context.Background(), portal.Source{Name: "portal", URL: srv.URL}); err != nil {
		t.Fatalf("Sync after one 503 = %v, want success", err)
	}
	if len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("waits = %v, want one of 1s", waits)
	}
}

// TestSyncConflict: an entity a Git source already holds stays with it,
// and the portal's sync reports the conflict naming both.
func TestSyncConflict(t *testing.T) {
	ctx := context.Background()
	st := sqlstoretest.OpenSQLite(t)
	git := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Metadata: catalog.Metadata{Name: "payments-api"},
		Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "platform"}}
	if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "acme/services", Repo: "acme/services"}, Full: true,
		Files: []catalog.FileResult{{Path: "payments/catalog-info.yaml", Entities: []*catalog.Entity{git}}}}); err != nil {
		t.Fatal(err)
	}
	srv := portaltest.NewServer(t, token, portaltest.Recorded(t))
	res, err := newSyncer(st, token).Sync(ctx, portal.Source{Name: "portal", URL: srv.URL})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	want := "entity component:default/payments-api is already defined by source acme/services in payments/catalog-info.yaml"
	if !slices.ContainsFunc(res.Errors, func(p catalog.ProcessingError) bool { return p.Source == "portal" && p.Message == want }) {
		t.Errorf("Sync errors = %v, want %q", res.Errors, want)
	}
	e, err := st.Entity(ctx, catalog.MustParseRef("component:payments-api"))
	if err != nil || e.Origin.Source != "acme/services" {
		t.Errorf("payments-api source = %+v, %v; want acme/services (first source wins)", e, err)
	}
	// The Git component's owner relation reaches the portal's group.
	grp, err := st.Entity(ctx, catalog.MustParseRef("group:platform"))
	if err != nil || !slices.ContainsFunc(grp.Relations, func(r catalog.Relation) bool {
		return r.Type == catalog.RelOwnerOf && r.TargetRef == "component:default/payments-api"
	}) {
		t.Errorf("group:platform relations = %v, %v; want ownerOf the Git component", grp, err)
	}
}

// TestFakeMatchesRecorded checks the fake against responses recorded from
// the real backend: the etag pass's fields and by-refs.
func TestFakeMatchesRecorded(t *testing.T) {
	srv := portaltest.NewServer(t, token, portaltest.Recorded(t))
	get := func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	byRef := map[string]any{}
	for _, f := range []string{"page-fields.json", "page-fields-2.json"} {
		var p map[string]any
		if err := json.Unmarshal(portaltest.ReadFile(t, f), &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p["items"].([]any) {
			byRef[portaltest.Ref(it.(map[string]any))] = it
		}
	}
	all := get("GET", byQuery+"?fields=kind,metadata.namespace,metadata.name,metadata.uid,metadata.etag", "")
	n := 0
	for _, it := range all["items"].([]any) {
		ref := portaltest.Ref(it.(map[string]any))
		if rec, ok := byRef[ref]; ok {
			n++
			if !reflect.DeepEqual(it, rec) {
				t.Errorf("fake fields item %s = %v, recorded %v", ref, it, rec)
			}
		}
	}
	if n != len(byRef) {
		t.Errorf("fake served %d of the %d recorded field items", n, len(byRef))
	}
	var rec map[string]any
	if err := json.Unmarshal(portaltest.ReadFile(t, "by-refs.json"), &rec); err != nil {
		t.Fatal(err)
	}
	got := get("POST", byRefsEP, `{"entityRefs":["component:default/payments-api","component:default/nope"]}`)
	if !reflect.DeepEqual(got["items"], rec["items"]) {
		t.Errorf("fake by-refs = %v, recorded %v", got["items"], rec["items"])
	}
	var e401 map[string]any
	if err := json.Unmarshal(portaltest.ReadFile(t, "401-illegal.json"), &e401); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+byQuery+"?limit=5", nil)
	req.Header.Set("Authorization", "Bearer wrong-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var g401 map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&g401)
	resp.Body.Close()
	if resp.StatusCode != 401 || !reflect.DeepEqual(g401, e401) {
		t.Errorf("fake 401 = %d %v, recorded %v", resp.StatusCode, g401, e401)
	}
}

// TestSyncCursorGuess: the next page is fetched ahead with the cursor
// read from the page's end; a page that writes pageInfo first, with an
// entity holding a "nextCursor" key after it, makes that guess wrong, and
// the sync must follow the decoded cursor instead.
func TestSyncCursorGuess(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	srv := portaltest.NewServer(t, token, nil)
	entity := func(name string) string {
		return `{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"` + name +
			`","namespace":"default","uid":"uid-` + name + `","etag":"e","annotations":{"nextCursor":"bogus"}},"spec":{"type":"team"},"relations":[]}`
	}
	var (
		mu      sync.Mutex
		cursors []string
	)
	srv.Handle(byQuery, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("cursor")
		mu.Lock()
		cursors = append(cursors, c)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch c {
		case "":
			fmt.Fprint(w, `{"pageInfo":{"nextCursor":"page2"},"items":[`+entity("one")+`]}`)
		case "page2":
			fmt.Fprint(w, `{"pageInfo":{},"items":[`+entity("two")+`]}`)
		default:
			http.Error(w, `{"error":{"name":"InputError","message":"Malformed cursor"}}`, http.StatusBadRequest)
		}
	}))
	res, err := newSyncer(st, token).Sync(context.Background(), portal.Source{Name: "portal", URL: srv.URL})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if res.Added != 2 {
		mu.Lock()
		defer mu.Unlock()
		t.Errorf("Sync added %d, want 2 (cursors asked: %q)", res.Added, cursors)
	}
}
