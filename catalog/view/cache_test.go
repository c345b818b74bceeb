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
