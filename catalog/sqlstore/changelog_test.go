package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

var _ catalog.ChangeLog = (*sqlstore.Store)(nil)

func groupDoc(name string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  type: team\n  children: []\n", name)
}

// compDeps is comp with a description and spec.dependsOn.
func compDeps(name, owner, desc string, deps ...string) string {
	d := ""
	if len(deps) > 0 {
		d = "  dependsOn: [" + strings.Join(deps, ", ") + "]\n"
	}
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  description: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n%s",
		name, desc, owner, d)
}

// syncFiles applies files as one sync of source acme: full through
// ApplySync's streamed path, or partial.
func syncFiles(t *testing.T, st *sqlstore.Store, full bool, files ...catalog.FileResult) catalog.SyncResult {
	t.Helper()
	res, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "acme", Repo: "https://git.example.com/acme", Commit: "c"},
		Full:   full,
		Files:  files,
	})
	if err != nil {
		t.Fatalf("ApplySync: %v", err)
	}
	return res
}

func changesSince(t *testing.T, st *sqlstore.Store, since int64) catalog.Changes {
	t.Helper()
	ch, err := st.Changes(context.Background(), since)
	if err != nil {
		t.Fatalf("Changes(%d): %v", since, err)
	}
	return ch
}

func refStrings(refs []catalog.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

// wantChanges checks that Changes(since) is complete, reaches the store's
// generation and lists exactly want.
func wantChanges(t *testing.T, st *sqlstore.Store, what string, since int64, want ...string) {
	t.Helper()
	ch := changesSince(t, st, since)
	if g := generationOf(t, st); !ch.Complete || ch.Generation != g {
		t.Errorf("%s: Changes(%d) = generation %d complete %v, want generation %d complete", what, since, ch.Generation, ch.Complete, g)
	}
	if got := refStrings(ch.Refs); !slices.Equal(got, want) {
		t.Errorf("%s: Changes(%d).Refs = %v, want %v", what, since, got, want)
	}
}

// TestChangesOfSyncs checks what each kind of sync logs: the entities it
// writes or removes and the targets of their relations before and after,
// whose inverse relations (a Group's ownerOf) are stored with them.
func TestChangesOfSyncs(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		org := parseFile(t, "org.yaml", groupDoc("team-a")+"---\n"+groupDoc("team-b")+"---\n"+groupDoc("team-c"), false)
		svc := func(owner, desc string, deps ...string) catalog.FileResult {
			return parseFile(t, "svc.yaml", compDeps("svc", owner, desc, deps...), false)
		}
		other := parseFile(t, "other.yaml", comp("other", "team-c"), false)
		wantChanges(t, st, "empty store", 0)

		syncFiles(t, st, true, org, svc("team-a", "one", "component:db"), other)
		g := generationOf(t, st)
		wantChanges(t, st, "first sync", 0, "component:default/db", "component:default/other", "component:default/svc",
			"group:default/team-a", "group:default/team-b", "group:default/team-c")

		syncFiles(t, st, true, org, svc("team-b", "one", "component:db"), other)
		wantChanges(t, st, "owner changed (full)", g, "component:default/db", "component:default/svc", "group:default/team-a", "group:default/team-b")
		g = generationOf(t, st)

		syncFiles(t, st, false, svc("team-a", "one", "component:db"))
		wantChanges(t, st, "owner changed (partial)", g, "component:default/db", "component:default/svc", "group:default/team-a", "group:default/team-b")
		g = generationOf(t, st)

		syncFiles(t, st, false, svc("team-a", "one", "component:cache"))
		wantChanges(t, st, "dependency changed", g, "component:default/cache", "component:default/db", "component:default/svc", "group:default/team-a")
		g = generationOf(t, st)

		res := syncFiles(t, st, true, org, svc("team-a", "one", "component:cache"), other)
		wantChanges(t, st, "no-op sync", g)
		if res.Unchanged != 5 || generationOf(t, st) != g {
			t.Errorf("no-op sync = %+v at generation %d, want 5 unchanged at %d", res, generationOf(t, st), g)
		}

		syncFiles(t, st, true, org, svc("team-a", "one", "component:cache"))
		wantChanges(t, st, "file gone (full)", g, "component:default/other", "group:default/team-c")
		g2 := generationOf(t, st)

		syncFiles(t, st, false, catalog.FileResult{Path: "svc.yaml", Removed: true})
		wantChanges(t, st, "file removed (partial)", g2, "component:default/cache", "component:default/svc", "group:default/team-a")
		wantChanges(t, st, "two syncs", g, "component:default/cache", "component:default/other", "component:default/svc",
			"group:default/team-a", "group:default/team-c")

		g = generationOf(t, st)
		if ch := changesSince(t, st, g+1); ch.Complete || len(ch.Refs) > 0 {
			t.Errorf("Changes(%d) past the generation %d = %+v, want incomplete (the store was reset)", g+1, g, ch)
		}
	})
}

// TestChangesOfLargeSync checks that a sync changing more entities than
// the log keeps one by one marks the log as not reaching back past it,
// and that syncs after it are logged again.
func TestChangesOfLargeSync(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		sqlstore.SetChangeLogLimits(st, 5, 0)
		var docs []string
		for i := range 8 {
			docs = append(docs, comp(fmt.Sprintf("c%d", i), "team"))
		}
		small := parseFile(t, "small.yaml", comp("s", "team"), false)
		syncFiles(t, st, true, small)
		g0 := generationOf(t, st)
		syncFiles(t, st, true, small, parseFile(t, "big.yaml", strings.Join(docs, "---\n"), false))
		g1 := generationOf(t, st)
		for _, since := range []int64{0, g0} {
			if ch := changesSince(t, st, since); ch.Complete || len(ch.Refs) > 0 || ch.Generation != g1 {
				t.Errorf("Changes(%d) after a sync of 8 with a limit of 5 = %+v, want incomplete at %d", since, ch, g1)
			}
		}
		wantChanges(t, st, "since the large sync", g1)
		if n := changeRows(t, st); n != 0 {
			t.Errorf("%d rows logged after the large sync, want 0", n)
		}

		docs[3] = comp("c3", "team-b")
		syncFiles(t, st, true, small, parseFile(t, "big.yaml", strings.Join(docs, "---\n"), false))
		wantChanges(t, st, "one changed after the large sync", g1, "component:default/c3", "group:default/team", "group:default/team-b")
		g2 := generationOf(t, st)

		syncFiles(t, st, true, small)
		if ch := changesSince(t, st, g2); ch.Complete || len(ch.Refs) > 0 {
			t.Errorf("Changes(%d) after removing 8 with a limit of 5 = %+v, want incomplete", g2, ch)
		}
	})
}

// TestChangesPruned checks that the log keeps the last generations only.
func TestChangesPruned(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		sqlstore.SetChangeLogLimits(st, 0, 3)
		var gens []int64
		for i := range 6 {
			syncFiles(t, st, true, parseFile(t, "a.yaml", comp("a", fmt.Sprintf("team-%d", i)), false))
			gens = append(gens, generationOf(t, st))
		}
		g := gens[len(gens)-1]
		// Three generations kept: changes after gens[2] are all logged.
		for _, since := range gens[:len(gens)-4] {
			if ch := changesSince(t, st, since); ch.Complete || ch.Generation != g {
				t.Errorf("Changes(%d) = %+v, want incomplete at %d (pruned)", since, ch, g)
			}
		}
		wantChanges(t, st, "last three generations", gens[len(gens)-4], "component:default/a", "group:default/team-2",
			"group:default/team-3", "group:default/team-4", "group:default/team-5")
		var n int
		if err := st.DB().Get(&n, "SELECT count(DISTINCT generation) FROM entity_changes"); err != nil || n != 3 {
			t.Errorf("generations logged = %d, %v; want 3", n, err)
		}
	})
}

func changeRows(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	var n int
	if err := st.DB().Get(&n, "SELECT count(*) FROM entity_changes"); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChangeLogMigration checks that a database migrated with entities
// already stored does not claim to log the generations before the log.
func TestChangeLogMigration(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		syncFiles(t, st, true, parseFile(t, "a.yaml", comp("a", "team"), false))
		db := st.DB()
		for _, q := range []string{
			"DROP TABLE entity_changes",
			"DELETE FROM meta WHERE key = 'changes_from'",
			"DELETE FROM schema_migrations WHERE version = '0013_change_log'",
			"UPDATE meta SET value = 7 WHERE key = 'generation'",
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if applied, err := st.Migrate(context.Background()); err != nil || !slices.Equal(applied, []string{"0013_change_log"}) {
			t.Fatalf("Migrate = %v, %v; want 0013_change_log applied", applied, err)
		}
		if ch := changesSince(t, st, 3); ch.Complete || ch.Generation != 7 {
			t.Errorf("Changes(3) after migrating at generation 7 = %+v, want incomplete at 7", ch)
		}
		wantChanges(t, st, "since the migration", 7)
	})
}

// TestSummariesOf checks that SummariesOf answers as Summaries does, for
// refs in any case, missing or repeated, in lists longer than one
// statement's parameters on SQLite.
func TestSummariesOf(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		if _, err := st.ApplySync(ctx, synthBatch(t, 1500, "c1")); err != nil {
			t.Fatal(err)
		}
		all, err := st.Summaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		refs := make([]catalog.Ref, 0, len(all)+2)
		for i := len(all) - 1; i >= 0; i-- {
			refs = append(refs, all[i].Ref)
		}
		refs = append(refs, catalog.MustParseRef("component:missing"), all[0].Ref)
		got, err := st.SummariesOf(ctx, refs)
		if err != nil {
			t.Fatalf("SummariesOf(%d refs): %v", len(refs), err)
		}
		if !reflect.DeepEqual(got, all) {
			t.Errorf("SummariesOf(every ref, reversed, one missing, one twice) differs from Summaries: %d against %d", len(got), len(all))
		}
		last := all[len(all)-1].Ref
		upper := catalog.Ref{Kind: strings.ToUpper(last.Kind), Namespace: "Default", Name: strings.ToUpper(last.Name)}
		if got, err := st.SummariesOf(ctx, []catalog.Ref{upper}); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], all[len(all)-1]) {
			t.Errorf("SummariesOf(%v) = %+v, %v; want [%+v]", upper, got, err, all[len(all)-1])
		}
		if got, err := st.SummariesOf(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("SummariesOf(nil) = %+v, %v; want nothing", got, err)
		}
	})
}

// TestChangesFollowConcurrentSyncs follows the catalog as a reader would,
// with Changes and SummariesOf, while syncs run, and checks that it ends
// holding what Summaries returns.
func TestChangesFollowConcurrentSyncs(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		const n = 40
		docs := func(r *rand.Rand) []catalog.FileResult {
			var files []catalog.FileResult
			for i := range n {
				if r.IntN(8) == 0 {
					continue // removed this time
				}
				owner := fmt.Sprintf("team-%d", r.IntN(5))
				files = append(files, parseFile(t, fmt.Sprintf("c%d.yaml", i), compDeps(fmt.Sprintf("c%d", i), owner, "v", fmt.Sprintf("component:c%d", r.IntN(n))), false))
			}
			return files
		}
		r := rand.New(rand.NewPCG(1, 2))
		syncFiles(t, st, true, docs(r)...)

		var (
			wg      sync.WaitGroup
			stop    = make(chan struct{})
			readErr error
			held    map[string]catalog.Summary
			heldGen int64
			reloads int
		)
		// reload reads everything as a reader must when the log does not
		// reach back: the generation first, so that a sync landing during
		// the read is caught up on next time.
		reload := func() error {
			reloads++
			g, err := st.Generation(ctx)
			if err != nil {
				return err
			}
			all, err := st.Summaries(ctx)
			if err != nil {
				return err
			}
			held, heldGen = map[string]catalog.Summary{}, g
			for _, s := range all {
				held[s.Ref.String()] = s
			}
			return nil
		}
		catchUp := func() error {
			ch, err := st.Changes(ctx, heldGen)
			if err != nil {
				return err
			}
			if !ch.Complete {
				return reload()
			}
			fresh, err := st.SummariesOf(ctx, ch.Refs)
			if err != nil {
				return err
			}
			for _, r := range ch.Refs {
				delete(held, r.String())
			}
			for _, s := range fresh {
				held[s.Ref.String()] = s
			}
			heldGen = ch.Generation
			return nil
		}
		if err := reload(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := catchUp(); err != nil {
					readErr = err
					return
				}
			}
		}()
		for range 30 {
			syncFiles(t, st, r.IntN(2) == 0, docs(r)...)
		}
		close(stop)
		wg.Wait()
		if readErr != nil {
			t.Fatalf("catching up: %v", readErr)
		}
		if err := catchUp(); err != nil {
			t.Fatalf("catching up: %v", err)
		}
		if reloads != 1 {
			t.Errorf("the reader reloaded everything %d times, want only at first", reloads)
		}
		all, err := st.Summaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]catalog.Summary{}
		for _, s := range all {
			want[s.Ref.String()] = s
		}
		if !reflect.DeepEqual(held, want) {
			t.Errorf("the reader holds %d summaries, Summaries returns %d; they differ", len(held), len(want))
		}
	})
}
