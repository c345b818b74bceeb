package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// TestCommittedBeforeBookkeeping: Options.Committed is called once per
// sync that changed the catalog, when the change is already readable from
// the store and before the sync saved its state (so a reader refreshing
// then does not wait for the bookkeeping), and never for a no-op.
func TestCommittedBeforeBookkeeping(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		comp := func(owner string) string {
			return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\nspec:\n  type: service\n  lifecycle: production\n  owner: " + owner + "\n"
		}
		repo := newRepo(t, map[string]string{"catalog-info.yaml": comp("team-a")})
		src := ingest.Source{Name: "src", Repo: repo}
		type call struct {
			source      string
			result      catalog.SyncResult
			owner       string
			stateCommit string
		}
		var calls []call
		s := ingest.New(st, ingest.Options{Committed: func(source string, r catalog.SyncResult) {
			e, err := st.Entity(ctx, catalog.MustParseRef("component:default/svc"))
			if err != nil {
				t.Errorf("Committed: the change is not readable: %v", err)
				return
			}
			owner, _ := e.Owner()
			c, _, _ := st.SyncState(ctx, source)
			calls = append(calls, call{source, r, owner.Name, c})
		}})
		first := mustSync(t, s, src)
		if len(calls) != 1 || calls[0].source != "src" || calls[0].result.Added != 1 || calls[0].owner != "team-a" || calls[0].stateCommit != "" {
			t.Fatalf("after the first sync: Committed calls %+v; want one, src, 1 added, owner team-a, no state saved yet", calls)
		}
		mustSync(t, s, src) // a no-op
		if len(calls) != 1 {
			t.Fatalf("a no-op sync called Committed: %+v", calls[1:])
		}
		commit(t, repo, map[string]string{"catalog-info.yaml": comp("team-b")})
		second := mustSync(t, s, src)
		if second.Full || len(calls) != 2 || calls[1].result.Updated != 1 || calls[1].owner != "team-b" {
			t.Fatalf("after a one-file change (full %v): Committed calls %+v; want a second, 1 updated, owner team-b", second.Full, calls)
		}
		if !strings.HasPrefix(calls[1].stateCommit, strings.Fields(first.Commit)[0]) {
			t.Errorf("Committed ran after the state of the new commit was saved: state at %q, first sync's commit %q", calls[1].stateCommit, first.Commit)
		}
	})
}
