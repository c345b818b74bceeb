package commands

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/catalog/view"
)

// newClockedRouter is New with a view whose clock is now, for tests that
// age snapshots without waiting.
func newClockedRouter(p Params, now func() time.Time) *Router {
	p.View = view.New(view.Params{Store: p.Store, Timeout: p.StoreTimeout, Now: now})
	return New(p)
}

// TestCacheFollowsSync checks that answers follow a sync that changes an
// entity the cache holds: the generation changes, and the entry with it.
func TestCacheFollowsSync(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
	now := time.Now()
	r := newClockedRouter(Params{Store: st}, func() time.Time { return now })
	ask := func(text string) Reply {
		return r.Serve(context.Background(), &Request{Platform: PlatformConsole, Text: text})
	}
	if got := ask("owner payments-api"); got.Title != "payments-api is owned by Payments Team" {
		t.Fatalf("owner payments-api = %q", got.Title)
	}
	doc := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments-api\nspec:\n  type: service\n  lifecycle: production\n  owner: group:checkout\n"
	ents, errs := catalog.Parse(strings.NewReader(doc), "components.yaml")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "acme/catalog", Repo: "testdata/catalog", Commit: "c2"},
		Files:  []catalog.FileResult{{Path: "components.yaml", Entities: ents}},
	}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * view.RefreshEvery)
	if got := ask("owner payments-api"); got.Title != "payments-api is owned by Checkout Team" {
		t.Errorf("owner payments-api after the owner changed = %q, want Checkout Team", got.Title)
	}
}

// TestConcurrentAnswers asks from many goroutines while syncs change the
// catalog, for the race detector and to check that no answer fails.
func TestConcurrentAnswers(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
	r := New(Params{Store: st})
	texts := []string{"owner payments-api", "team payments", "deps checkout", "oncall ledger", "docs payments-api", "owner paymnts-api", "search payments"}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(texts)*20)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 * len(texts) {
				text := texts[(g+i)%len(texts)]
				rep := r.Serve(context.Background(), &Request{Platform: PlatformConsole, Text: text})
				if (rep.Title == "" && rep.Text == "") || strings.Contains(rep.Text, "went wrong") {
					errs <- fmt.Sprintf("%s = %q / %q", text, rep.Title, rep.Text)
				}
			}
		})
	}
	for i := range 3 {
		catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
		if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
			Source: catalog.Source{Name: "acme/catalog", Repo: "testdata/catalog", Commit: fmt.Sprint("c", i)},
			Files:  []catalog.FileResult{{Path: "extra.yaml", Entities: extraComponent(t, i)}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func extraComponent(tb testing.TB, i int) []*catalog.Entity {
	tb.Helper()
	doc := fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: extra-%d\nspec:\n  type: service\n  lifecycle: production\n  owner: group:payments\n", i)
	ents, errs := catalog.Parse(strings.NewReader(doc), "extra.yaml")
	if len(errs) > 0 {
		tb.Fatal(errs)
	}
	return ents
}
