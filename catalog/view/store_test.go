package view_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/catalog/view"
)

// countingStore counts the full reads of the catalog; Changes and
// SummariesOf stay promoted from the store.
type countingStore struct {
	*sqlstore.Store
	summaries atomic.Int64
}

func (s *countingStore) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	s.summaries.Add(1)
	return s.Store.Summaries(ctx)
}

var storeWords = []string{"payments", "ledger", "checkout", "fraud", "worker", "billing", "events"}

// component is a descriptor file of one Component with random fields.
func component(rng *rand.Rand, name string) string {
	pick := func(n int) []string {
		var out []string
		for range n {
			out = append(out, storeWords[rng.IntN(len(storeWords))])
		}
		return out
	}
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  title: %q
  description: %q
  tags: [%s]
spec:
  type: service
  lifecycle: production
  owner: team-%d
`, name, strings.Join(pick(rng.IntN(3)), " "), strings.Join(pick(rng.IntN(5)), " "), strings.Join(pick(rng.IntN(3)), ", "), rng.IntN(4))
}

// TestPatchOnStores syncs random changes of descriptor files (owners,
// titles, descriptions and tags changed, files added and removed,
// entities renamed) into each real store, and checks after each sync that
// the view, patched through the store's change log, answers as a view
// built afresh over the same store: the same listing, owners' entities,
// searches and loaded entities.
func TestPatchOnStores(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := &countingStore{Store: open(t)}
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(4, 2))
			files := map[string]string{} // path -> name of its component
			sync := func(fs []catalog.FileResult) {
				t.Helper()
				if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "acme/catalog", Commit: "c0ffee", Status: "ok"}, Files: fs}); err != nil {
					t.Fatalf("ApplySync: %v", err)
				}
			}
			write := func(path, name string) catalog.FileResult {
				t.Helper()
				files[path] = name
				ents, errs := catalog.Parse(strings.NewReader(component(rng, name)), path)
				if len(errs) > 0 {
					t.Fatalf("Parse %s: %v", path, errs)
				}
				return catalog.FileResult{Path: path, Entities: ents}
			}
			var teams strings.Builder
			for i := range 4 {
				fmt.Fprintf(&teams, "---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-%d\nspec:\n  type: team\n  children: []\n", i)
			}
			orgEnts, errs := catalog.Parse(strings.NewReader(teams.String()), "org.yaml")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			first := []catalog.FileResult{{Path: "org.yaml", Entities: orgEnts}}
			for i := range 40 {
				first = append(first, write(fmt.Sprintf("svc-%d.yaml", i), fmt.Sprintf("svc-%d", i)))
			}
			sync(first)
			x := view.New(view.Params{Store: st})
			if _, err := x.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
			next := 40
			for round := range 25 {
				var fs []catalog.FileResult
				var did []string
				paths := slices.Sorted(maps.Keys(files))
				for range 1 + rng.IntN(3) {
					p := paths[rng.IntN(len(paths))]
					switch rng.IntN(5) {
					case 0:
						fs = append(fs, write(fmt.Sprintf("svc-%d.yaml", next), fmt.Sprintf("svc-%d", next)))
						did = append(did, "add svc-"+fmt.Sprint(next))
						next++
					case 1:
						if _, ok := files[p]; ok && len(files) > 5 {
							delete(files, p)
							fs = append(fs, catalog.FileResult{Path: p, Removed: true})
							did = append(did, "remove "+p)
						}
					case 2:
						if _, ok := files[p]; ok {
							fs = append(fs, write(p, fmt.Sprintf("renamed-%d", next)))
							did = append(did, "rename in "+p)
							next++
						}
					default:
						if n, ok := files[p]; ok {
							fs = append(fs, write(p, n))
							did = append(did, "change "+p)
						}
					}
				}
				// A path written twice in one sync keeps its last entities.
				seen := map[string]int{}
				var uniq []catalog.FileResult
				for _, f := range fs {
					if i, ok := seen[f.Path]; ok {
						uniq[i] = f
						continue
					}
					seen[f.Path] = len(uniq)
					uniq = append(uniq, f)
				}
				sync(uniq)
				x.Expire()
				got, err := x.Snapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want, err := view.New(view.Params{Store: st.Store}).Snapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if d := diffSnapshots(ctx, got, want); d != "" {
					t.Fatalf("round %d (%s): patched view differs from a fresh one: %s", round, strings.Join(did, "; "), d)
				}
			}
			if n := st.summaries.Load(); n != 1 {
				t.Errorf("the view read every summary %d times; want once, then patches", n)
			}
		})
	}
}

// diffSnapshots describes the first difference between what got and want
// answer, "" when none.
func diffSnapshots(ctx context.Context, got, want view.Snapshot) string {
	if got.Generation() != want.Generation() {
		return fmt.Sprintf("generation %d, want %d", got.Generation(), want.Generation())
	}
	listing := func(s view.Snapshot) (out []string, refs []catalog.Ref) {
		for e := range s.Summaries {
			out = append(out, fmt.Sprintf("%+v", *e.Summary()))
			refs = append(refs, e.Ref())
		}
		return out, refs
	}
	gl, refs := listing(got)
	wl, _ := listing(want)
	if fmt.Sprint(gl) != fmt.Sprint(wl) {
		return fmt.Sprintf("Summaries\n got %v\nwant %v", gl, wl)
	}
	keys := func(l view.List) string {
		var out []string
		for i := range l.Len() {
			out = append(out, l.At(i).Key())
		}
		return strings.Join(out, ",")
	}
	for i := range 4 {
		o := fmt.Sprintf("group:default/team-%d", i)
		if g, w := keys(got.Owned(o)), keys(want.Owned(o)); g != w {
			return fmt.Sprintf("Owned(%s) = %s, want %s", o, g, w)
		}
	}
	entries := func(es []*view.Entry, n int) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Key())
		}
		return fmt.Sprint(out, n)
	}
	for _, w := range storeWords {
		for _, terms := range [][]string{{w}, {w[:3]}, {w[1:]}} {
			gh, gn := got.Search(terms, 10)
			wh, wn := want.Search(terms, 10)
			if g, w := entries(gh, gn), entries(wh, wn); g != w {
				return fmt.Sprintf("Search(%q) = %s, want %s", terms, g, w)
			}
		}
		typo := []string{w[:2] + "q" + w[3:]}
		gh, gn, gt := got.SearchNear(typo, 10)
		wh, wn, wt := want.SearchNear(typo, 10)
		if g, w := entries(gh, gn)+fmt.Sprint(gt), entries(wh, wn)+fmt.Sprint(wt); g != w {
			return fmt.Sprintf("SearchNear(%q) = %s, want %s", typo, g, w)
		}
	}
	ge, err := got.Load(ctx, refs)
	if err != nil {
		return "Load: " + err.Error()
	}
	we, err := want.Load(ctx, refs)
	if err != nil {
		return "Load: " + err.Error()
	}
	for _, r := range refs {
		k := r.String()
		g, w := ge[k], we[k]
		if (g == nil) != (w == nil) {
			return fmt.Sprintf("Load(%s) = %v, want %v", k, g, w)
		}
		if g == nil {
			continue
		}
		if gs, ws := fmt.Sprintf("%+v %+v %v", g.Metadata, g.Spec, g.Relations), fmt.Sprintf("%+v %+v %v", w.Metadata, w.Spec, w.Relations); gs != ws {
			return fmt.Sprintf("Load(%s)\n got %s\nwant %s", k, gs, ws)
		}
	}
	return ""
}
