package sqlstore_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// openReplica opens a second store on st's Postgres schema, as another
// serve process on the same database would, and closes it in t.Cleanup.
func openReplica(t *testing.T, st *sqlstore.Store) *sqlstore.Store {
	t.Helper()
	var schema string
	if err := st.DB().Get(&schema, "SELECT current_schema()"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sqlstoretest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	r, err := sqlstore.Open(context.Background(), u.String())
	if err != nil {
		t.Fatalf("open replica store: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// begin starts a sync of source with files added, not committed.
func begin(ctx context.Context, st *sqlstore.Store, source string, files ...catalog.FileResult) (catalog.SyncWriter, error) {
	sw, err := st.BeginSync(ctx, catalog.Source{Name: source, Commit: "c-" + source})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := sw.Add(ctx, f); err != nil {
			sw.Rollback()
			return nil, err
		}
	}
	return sw, nil
}

// TestSyncsOfSourcesOverlap checks that syncs of different sources, on
// two stores (replicas) of one Postgres database, are in their discovery
// phase at the same time: a sync no longer holds a database-wide lock from
// BeginSync on, only for its writes.
func TestSyncsOfSourcesOverlap(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	other := openReplica(t, st)
	ctx := context.Background()
	for _, src := range []string{"a", "b"} {
		sw, err := begin(ctx, st, src, parseFile(t, src+".yaml", comp("svc-"+src, "team-1"), false))
		if err != nil {
			t.Fatalf("first sync of %s: %v", src, err)
		}
		if _, err := sw.Commit(ctx, catalog.Source{Name: src, Commit: "c1"}, true); err != nil {
			t.Fatalf("first sync of %s: %v", src, err)
		}
	}

	// a's sync changes its entity and stays open, as during a long
	// discovery; b's sync, on the other replica, starts and finishes.
	swA, err := begin(ctx, st, "a", parseFile(t, "a.yaml", comp("svc-a", "team-2"), false))
	if err != nil {
		t.Fatalf("BeginSync(a): %v", err)
	}
	defer swA.Rollback()
	bctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	swB, err := begin(bctx, other, "b",
		parseFile(t, "b.yaml", comp("svc-b", "team-2")+"---\n"+comp("svc-b2", "team-2"), false))
	if err != nil {
		t.Fatalf("BeginSync(b) while a's sync is open: %v; want it to start at once", err)
	}
	defer swB.Rollback()
	resB, err := swB.Commit(bctx, catalog.Source{Name: "b", Commit: "c2"}, true)
	if err != nil {
		t.Fatalf("Commit(b) while a's sync is open: %v", err)
	}
	if resB.Added != 1 || resB.Updated != 1 {
		t.Errorf("Commit(b) = %+v, want 1 added, 1 updated", resB)
	}
	resA, err := swA.Commit(ctx, catalog.Source{Name: "a", Commit: "c2"}, true)
	if err != nil || resA.Updated != 1 {
		t.Fatalf("Commit(a) = %+v, %v; want 1 updated", resA, err)
	}
	for ref, owner := range map[string]string{"component:svc-a": "team-2", "component:svc-b": "team-2", "component:svc-b2": "team-2"} {
		if e := entityAt(t, st, ref); e.SpecString("owner") != owner {
			t.Errorf("Entity(%s) owner = %q, want %q", ref, e.SpecString("owner"), owner)
		}
	}
	if g1, g2 := generationOf(t, st), int64(4); g1 != g2 {
		t.Errorf("generation = %d, want %d (one per sync that changed something)", g1, g2)
	}
}

func generationOf(t *testing.T, st *sqlstore.Store) int64 {
	t.Helper()
	var g int64
	if err := st.DB().Get(&g, "SELECT value FROM meta WHERE key = 'generation'"); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestSyncsOfOneSourceSerialise checks that two syncs of the same source
// (serve and a `portalbot sync` run, say) still never overlap: the second
// waits for the first and starts from what it wrote.
func TestSyncsOfOneSourceSerialise(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	other := openReplica(t, st)
	ctx := context.Background()
	sw1, err := begin(ctx, st, "a", parseFile(t, "a.yaml", comp("svc-a", "team-1"), false))
	if err != nil {
		t.Fatal(err)
	}
	defer sw1.Rollback()
	started := make(chan error, 1)
	var sw2 catalog.SyncWriter
	go func() {
		var err error
		sw2, err = begin(ctx, other, "a", parseFile(t, "a.yaml", comp("svc-a", "team-1"), false))
		started <- err
	}()
	select {
	case err := <-started:
		t.Fatalf("second BeginSync(a) returned (%v) while the first is open; want it to wait", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := sw1.Commit(ctx, catalog.Source{Name: "a", Commit: "c1"}, true); err != nil {
		t.Fatal(err)
	}
	if err := <-started; err != nil {
		t.Fatalf("second BeginSync(a): %v", err)
	}
	defer sw2.Rollback()
	res, err := sw2.Commit(ctx, catalog.Source{Name: "a", Commit: "c1"}, true)
	if err != nil || res.Unchanged != 1 || len(res.Errors) != 0 {
		t.Errorf("second Commit(a) = %+v, %v; want 1 unchanged, no errors", res, err)
	}
}

// TestConcurrentSourcesOneRef syncs two sources that both define one ref,
// at the same time, many times over: each time exactly one holds it and
// the other gets a processing error naming the holder's source and file.
// Odd rounds use ApplySync's partial batch (an incremental sync) rather
// than the streamed writer.
func TestConcurrentSourcesOneRef(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		replicas := []*sqlstore.Store{st, st}
		if st.Dialect() == "postgres" {
			replicas[1] = openReplica(t, st)
		}
		ctx := context.Background()
		for round := range 8 {
			shared := fmt.Sprintf("shared-%d", round)
			ref := "component:default/" + shared
			srcs := []string{fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)}
			results := make([]catalog.SyncResult, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, src := range srcs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f := parseFile(t, src+".yaml", comp(shared, "team-"+src)+"---\n"+comp("own-"+src, "team-"+src), false)
					if round%2 == 1 {
						results[i], errs[i] = replicas[i].ApplySync(ctx, catalog.SyncBatch{
							Source: catalog.Source{Name: src, Commit: "c1"}, Files: []catalog.FileResult{f}})
						return
					}
					sw, err := begin(ctx, replicas[i], src, f)
					if err != nil {
						errs[i] = err
						return
					}
					defer sw.Rollback()
					results[i], errs[i] = sw.Commit(ctx, catalog.Source{Name: src, Commit: "c1"}, true)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: sync of %s: %v", round, srcs[i], err)
				}
			}
			holder := entityAt(t, st, ref).Origin.Source
			if holder != srcs[0] && holder != srcs[1] {
				t.Fatalf("round %d: Entity(%s) source = %q, want %s or %s", round, ref, holder, srcs[0], srcs[1])
			}
			for i, src := range srcs {
				entityAt(t, st, "component:own-"+src)
				var msgs []string
				for _, pe := range results[i].Errors {
					msgs = append(msgs, pe.Message)
				}
				want := fmt.Sprintf("entity %s is already defined by source %s in %s.yaml", ref, holder, holder)
				if src == holder {
					if len(msgs) != 0 || results[i].Added != 2 {
						t.Errorf("round %d: holder %s: result %+v, errors %q; want 2 added, no errors", round, src, results[i], msgs)
					}
				} else if len(msgs) != 1 || msgs[0] != want || results[i].Added != 1 {
					t.Errorf("round %d: loser %s: result %+v, errors %q; want 1 added and [%q]", round, src, results[i], msgs, want)
				}
			}
		}
	})
}
