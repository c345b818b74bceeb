package view

import (
	"fmt"
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
