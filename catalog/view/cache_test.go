package view

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/portalbot/portalbot/catalog"
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

// TestEntityCacheResistsScans: entries asked for again (the teams and
// people of owner answers) stay cached through a stream of entries asked
// for once each (the services asked about), many times the cache's size.
// A plain LRU evicted them all.
func TestEntityCacheResistsScans(t *testing.T) {
	ent := func(name string) *catalog.Entity {
		return &catalog.Entity{Kind: catalog.KindComponent, Metadata: catalog.Metadata{Name: name, Namespace: "default"}}
	}
	one := entitySize("component:default/s-0000", ent("s-0000"))
	c := newEntityCache(one * 100)
	hot := make([]string, 20)
	for i := range hot {
		hot[i] = fmt.Sprintf("group:default/t-%02d", i)
		c.put(hot[i], 1, ent(hot[i]))
		c.get(hot[i], 1)
	}
	for i := range 2000 {
		k := fmt.Sprintf("component:default/s-%04d", i)
		c.put(k, 1, ent(k))
		if c.bytes() > c.limit {
			t.Fatalf("cache holds %d bytes, over its bound %d", c.bytes(), c.limit)
		}
	}
	for _, k := range hot {
		if _, ok := c.get(k, 1); !ok {
			t.Errorf("get(%s) missed after a stream of one-time entries; want it kept", k)
		}
	}
	if _, ok := c.get("component:default/s-1999", 1); !ok {
		t.Error("get(s-1999) missed; want the newest one-time entry cached")
	}
	if _, ok := c.get("component:default/s-0000", 1); ok {
		t.Error("get(s-0000) hit; want the oldest one-time entry evicted")
	}
	// Protected entries past their share go back on probation, and from
	// there out, as the stream goes on.
	for i := range 200 {
		k := fmt.Sprintf("group:default/u-%03d", i)
		c.put(k, 1, ent(k))
		c.get(k, 1)
	}
	if c.protSize > int(float64(c.limit)*protectedShare) {
		t.Errorf("protected entries hold %d bytes, over their share of %d", c.protSize, c.limit)
	}
	if c.bytes() > c.limit {
		t.Errorf("cache holds %d bytes, over its bound %d", c.bytes(), c.limit)
	}
}

// TestPatchCarriesCache checks that after a patch the entity cache still
// answers for the entities that did not change, and only for those, and
// that no warm-up reads a kind again. Before patches every change emptied
// the cache: the unchanged entity was read again.
func TestPatchCarriesCache(t *testing.T) {
	a, b := catalog.MustParseRef("component:default/a"), catalog.MustParseRef("component:default/b")
	st := newLogStore([]catalog.Summary{{Ref: a, Owner: "group:default/old"}, {Ref: b, Owner: "group:default/old"}})
	x := New(Params{Store: st})
	ctx := context.Background()
	load := func() map[string]*catalog.Entity {
		t.Helper()
		s, err := x.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Load(ctx, []catalog.Ref{a, b})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	load()
	st.mu.Lock()
	entity, entities := st.entity, st.entities
	st.mu.Unlock()
	st.set(catalog.Summary{Ref: a, Owner: "group:default/new"}, false)
	st.commit()
	x.Expire()
	got := load()
	st.mu.Lock()
	defer st.mu.Unlock()
	if owner := got[a.String()].Spec["owner"]; owner != "group:default/new" {
		t.Errorf("Load(a) after a patch: owner %v, want group:default/new", owner)
	}
	if n := st.entity - entity; n != 1 {
		t.Errorf("Load(a, b) after a patch changing a read %d entities from the store, want 1 (a)", n)
	}
	if n := st.entities - entities; n != 0 {
		t.Errorf("a patch warmed the cache with %d listings, want none", n)
	}
}

// TestEntityCacheCarry checks carry's rules one by one: unchanged entries
// move on, changed ones go, and a late answer for a reader of the old
// generation is never carried.
func TestEntityCacheCarry(t *testing.T) {
	ent := func(name string) *catalog.Entity {
		return &catalog.Entity{Kind: catalog.KindComponent, Metadata: catalog.Metadata{Name: name, Namespace: "default"}}
	}
	c := newEntityCache(entityCacheBytes)
	c.put("x", 1, ent("x-old"))
	c.put("y", 1, ent("y"))
	c.put("gone", 1, nil)
	c.put("z", 0, ent("z-older")) // of a generation before the one carried
	c.carry(1, 2, []string{"x", "gone"})
	for _, tt := range []struct {
		key  string
		gen  int64
		want string // "" for a miss
	}{
		{"y", 2, "y"}, {"x", 2, ""}, {"gone", 2, ""}, {"z", 2, ""}, {"y", 1, ""},
	} {
		got, ok := c.get(tt.key, tt.gen)
		name := ""
		if ok && got != nil {
			name = got.Metadata.Name
		}
		if name != tt.want || ok != (tt.want != "") {
			t.Errorf("get(%s, %d) = %q, %v; want %q", tt.key, tt.gen, name, ok, tt.want)
		}
	}
	// A reader of generation 1 read x before the sync changed it and puts
	// it after the carry: a miss at 2, and never carried further.
	c.put("x", 1, ent("x-old"))
	c.carry(2, 3, nil)
	for _, gen := range []int64{2, 3} {
		if got, ok := c.get("x", gen); ok {
			t.Errorf("get(x, %d) = %v after a late put at generation 1; want a miss", gen, got.Metadata.Name)
		}
	}
	// y, read at 1, is still good at 3.
	if got, ok := c.get("y", 3); !ok || got.Metadata.Name != "y" {
		t.Errorf("get(y, 3) = %v, %v; want y carried twice", got, ok)
	}
}

// TestCacheNeverStale runs syncs that change owners while readers, some
// holding an older snapshot for a while, load entities through the view
// (patched snapshots, carried cache entries, late answers of old readers
// and all). No entity loaded through a snapshot of generation g may be
// older than the entity was at g.
func TestCacheNeverStale(t *testing.T) {
	var refs []catalog.Ref
	var sums []catalog.Summary
	for i := range 40 {
		r := catalog.Ref{Kind: catalog.KindComponent, Namespace: "default", Name: fmt.Sprint("c-", i)}
		refs = append(refs, r)
		sums = append(sums, catalog.Summary{Ref: r, Owner: "group:default/team-0"})
	}
	sortSummaries(sums)
	st := newLogStore(sums)
	x := New(Params{Store: st})
	ctx := context.Background()
	if _, err := x.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	// changedBy is the generation of ref's last change at or before gen.
	changedBy := func(ref string, gen int64) int64 {
		st.mu.Lock()
		defer st.mu.Unlock()
		last := int64(0)
		for _, g := range st.history[ref] {
			if g <= gen {
				last = g
			}
		}
		return last
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			var s Snapshot
			for {
				select {
				case <-done:
					return
				default:
				}
				if s.b == nil || rng.IntN(3) == 0 {
					var err error
					if s, err = x.Snapshot(ctx); err != nil {
						t.Error(err)
						return
					}
				}
				want := []catalog.Ref{refs[rng.IntN(len(refs))], refs[rng.IntN(len(refs))]}
				got, err := s.Load(ctx, want)
				if err != nil {
					t.Error(err)
					return
				}
				for k, e := range got {
					v, _ := strconv.ParseInt(e.Metadata.Annotations["changed"], 10, 64)
					if last := changedBy(k, s.Generation()); v < last {
						t.Errorf("Load(%s) at generation %d = the entity as changed at %d; it changed again at %d", k, s.Generation(), v, last)
					}
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 300 {
		st.mu.Lock()
		for range 1 + rng.IntN(3) {
			sm := st.sums[refs[rng.IntN(len(refs))].String()]
			sm.Owner = fmt.Sprint("group:default/team-", rng.IntN(5))
			st.setLocked(sm, false)
		}
		st.gen++ // the sync commits its changes at once
		st.mu.Unlock()
		x.Expire()
		if _, err := x.Snapshot(ctx); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	close(done)
	wg.Wait()
	if n, _ := st.calls(); n != 1 {
		t.Errorf("Summaries called %d times; want once, and patches since", n)
	}
}

// BenchmarkCarry measures carrying a full cache (the warm-up's Groups,
// Users, Systems and Domains of a 100,000-entity catalog, and more) from
// one generation to the next.
func BenchmarkCarry(b *testing.B) {
	c := newEntityCache(entityCacheBytes)
	for i := 0; c.bytes() < c.limit*9/10; i++ {
		k := fmt.Sprintf("group:default/team-%d", i)
		c.put(k, 1, &catalog.Entity{Kind: catalog.KindGroup, Metadata: catalog.Metadata{Name: k, Namespace: "default"}})
	}
	b.Logf("%d entries", c.len())
	gen := int64(1)
	b.ReportAllocs()
	for b.Loop() {
		c.carry(gen, gen+1, []string{"group:default/team-1", "group:default/team-2"})
		gen++
	}
}
