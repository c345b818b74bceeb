package commands

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
)

func TestEntityCache(t *testing.T) {
	ent := func(name string) *catalog.Entity {
		return &catalog.Entity{Kind: catalog.KindComponent, Metadata: catalog.Metadata{Name: name, Namespace: "default"}}
	}
	one := entitySize("component:default/c-000", ent("c-000"))
	c := newEntityCache(one * 16 * 4) // room for about 64 entries
	for i := range 200 {
		k := fmt.Sprintf("component:default/c-%03d", i)
		c.put(k, 1, ent(fmt.Sprintf("c-%03d", i)))
		if i%2 == 0 {
			c.get("component:default/c-000", 1) // keep the first one hot
		}
	}
	if c.bytes() > c.limit {
		t.Errorf("cache holds %d bytes, over its bound %d", c.bytes(), c.limit)
	}
	if n := c.len(); n < 32 || n > 64 {
		t.Errorf("cache holds %d entries, want about 64", n)
	}
	if e, ok := c.get("component:default/c-000", 1); !ok || e.Metadata.Name != "c-000" {
		t.Errorf("get(c-000, 1) = %v, %v; want the recently used entry kept", e, ok)
	}
	if _, ok := c.get("component:default/c-001", 1); ok {
		t.Errorf("get(c-001, 1) hit; want the least recently used entries evicted")
	}
	if _, ok := c.get("component:default/c-199", 2); ok {
		t.Errorf("get(c-199, 2) hit an entry of generation 1; want a miss")
	}
	c.put("component:default/c-199", 3, nil)
	c.put("component:default/c-199", 2, ent("old")) // a slow load from before the sync
	if e, ok := c.get("component:default/c-199", 3); !ok || e != nil {
		t.Errorf("get(c-199, 3) = %v, %v; want the newer negative entry kept", e, ok)
	}
}

// TestCacheFollowsSync checks that answers follow a sync that changes an
// entity the cache holds: the generation changes, and the entry with it.
func TestCacheFollowsSync(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
	r, h := newRouter(Params{Store: st})
	now := h.idx.now()
	h.idx.now = func() time.Time { return now }
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
	now = now.Add(2 * refreshEvery)
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
