package view

import (
	"container/list"
	"sync"

	"github.com/portalbot/portalbot/catalog"
)

// entityCacheBytes bounds the estimated memory of the entity cache. At the
// 100,000-entity benchmark catalog an owner answer touches the entity, its
// team and a few members; 64 MiB holds every team, system and person of
// such a catalog plus tens of thousands of recently asked-about entities.
const entityCacheBytes = 64 << 20

// entityCache keeps recently loaded entities, each tagged with the catalog
// generation it was read at. An entry of another generation is a miss: a
// sync changed the catalog, and the entity may have changed with it. It is
// safe for concurrent use; cached entities are shared by every reader and
// must not be modified.
//
// It is a segmented LRU: an entity enters on probation and is protected
// once asked for again; when the estimated size passes the bound, the
// least recently used entry on probation goes first. A stream of entities
// asked about once each (owner questions over 125,000 services) then
// cycles through probation without evicting the teams and people that
// nearly every answer reads again: in a plain LRU of 64 MiB at 250,000
// entities it evicted them all (issue 19).
type entityCache struct {
	limit int // estimated bytes

	mu sync.Mutex
	// size is the estimated bytes held, protSize those of protected
	// entries; probation and protected list entries most recent first;
	// m maps canonical refs to their element in either. All guarded by mu.
	size, protSize       int
	probation, protected *list.List
	m                    map[string]*list.Element
}

// protectedShare is the part of the bound protected entries may hold; past
// it, the least recently used go back on probation.
const protectedShare = 0.8

// cacheEntry is one cached answer of Store.Entity: the entity, or nil when
// the catalog had no such entity at gen.
type cacheEntry struct {
	key       string
	gen       int64
	ent       *catalog.Entity
	size      int
	protected bool
}

func newEntityCache(limit int) *entityCache {
	return &entityCache{limit: limit, probation: list.New(), protected: list.New(), m: map[string]*list.Element{}}
}

// get returns the entity cached for key at generation gen; ok is false on
// a miss. A nil entity with ok true means the catalog has no such entity.
func (c *entityCache) get(key string, gen int64) (ent *catalog.Entity, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.m[key]
	if el == nil {
		return nil, false
	}
	ce := el.Value.(*cacheEntry)
	if ce.gen != gen {
		return nil, false
	}
	c.touch(el)
	return ce.ent, true
}

// touch marks el used: first in the protected list, where it moves from
// probation. c.mu must be held.
func (c *entityCache) touch(el *list.Element) {
	ce := el.Value.(*cacheEntry)
	if ce.protected {
		c.protected.MoveToFront(el)
		return
	}
	c.probation.Remove(el)
	ce.protected = true
	c.protSize += ce.size
	c.m[ce.key] = c.protected.PushFront(ce)
	for c.protSize > int(float64(c.limit)*protectedShare) && c.protected.Len() > 1 {
		back := c.protected.Back()
		old := back.Value.(*cacheEntry)
		c.protected.Remove(back)
		old.protected = false
		c.protSize -= old.size
		c.m[old.key] = c.probation.PushFront(old)
	}
}

// put records what the store answered for key at generation gen. An
// answer older than the cached one is dropped: a slow load that began
// before a sync must not replace what was read after it.
func (c *entityCache) put(key string, gen int64, ent *catalog.Entity) {
	size := entitySize(key, ent)
	if size > c.limit/16 {
		return // one huge entity must not flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.m[key]; el != nil {
		ce := el.Value.(*cacheEntry)
		if ce.gen > gen {
			return
		}
		c.size += size - ce.size
		if ce.protected {
			c.protSize += size - ce.size
		}
		ce.gen, ce.ent, ce.size = gen, ent, size
		c.touch(el)
	} else {
		c.m[key] = c.probation.PushFront(&cacheEntry{key: key, gen: gen, ent: ent, size: size})
		c.size += size
	}
	for c.size > c.limit {
		if back := c.probation.Back(); back != nil {
			c.remove(back)
		} else {
			c.remove(c.protected.Back())
		}
	}
}

// carry moves the entries cached at generation from to generation to,
// except those of keys, which it drops: a change log said that only the
// entities of keys changed between the two, so the other answers read at
// from hold at to. It must be called before a snapshot of to is
// published, with to greater than from.
//
// Why no stale entry reaches to: an entry put at generation g was read
// from the store after g was (the reader had a snapshot of g), so it
// holds the entity as of g or later. Carried from from to to, an entity
// not in keys did not change in between, so it holds it as of to or
// later. A reader of from that puts after carry, perhaps what it read
// before a change of keys, puts at from: it is a miss at to (put never
// overwrites a newer generation), and is never carried, since the next
// carry starts from to.
func (c *entityCache) carry(from, to int64, keys []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if el := c.m[k]; el != nil {
			c.remove(el)
		}
	}
	for _, l := range []*list.List{c.protected, c.probation} {
		for el := l.Front(); el != nil; el = el.Next() {
			if ce := el.Value.(*cacheEntry); ce.gen == from {
				ce.gen = to
			}
		}
	}
}

// remove drops el; c.mu must be held.
func (c *entityCache) remove(el *list.Element) {
	ce := el.Value.(*cacheEntry)
	if ce.protected {
		c.protected.Remove(el)
		c.protSize -= ce.size
	} else {
		c.probation.Remove(el)
	}
	delete(c.m, ce.key)
	c.size -= ce.size
}

// len returns the number of cached entries.
func (c *entityCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probation.Len() + c.protected.Len()
}

// bytes returns the estimated size of the cached entries.
func (c *entityCache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// entitySize estimates the memory an entity holds: the struct and maps
// with their strings, and each relation. It need not be exact, only grow
// with the entity, so that the bound holds for catalogs of big teams.
func entitySize(key string, e *catalog.Entity) int {
	n := 160 + 2*len(key)
	if e == nil {
		return n
	}
	n += 600 + len(e.Metadata.Description) + len(e.Metadata.Title)
	for k, v := range e.Metadata.Annotations {
		n += 64 + len(k) + len(v)
	}
	for k, v := range e.Metadata.Labels {
		n += 64 + len(k) + len(v)
	}
	for _, t := range e.Metadata.Tags {
		n += 16 + len(t)
	}
	for _, l := range e.Metadata.Links {
		n += 96 + len(l.URL) + len(l.Title)
	}
	n += specSize(e.Spec)
	for _, r := range e.Relations {
		n += 160 + 3*len(r.TargetRef)
	}
	return n
}

// specSize estimates a decoded YAML/JSON value.
func specSize(v any) int {
	switch v := v.(type) {
	case map[string]any:
		n := 48
		for k, x := range v {
			n += 32 + len(k) + specSize(x)
		}
		return n
	case []any:
		n := 24
		for _, x := range v {
			n += 16 + specSize(x)
		}
		return n
	case string:
		return 16 + len(v)
	default:
		return 16
	}
}
