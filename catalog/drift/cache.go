package drift

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// GenerationReader is a Reader that also says when the catalog changed;
// catalog.Store satisfies it.
type GenerationReader interface {
	Reader
	// Generation changes whenever a sync changes the catalog.
	Generation(ctx context.Context) (int64, error)
}

// Cache loads snapshots and keeps the catalog part of the last one until
// the store's generation changes, so repeated reports between two syncs
// (each target, each team digest, "drift" in chat) read only the ownership
// history. It is safe for concurrent use.
type Cache struct {
	r        GenerationReader
	mapping  map[string]string
	activity ActivityOptions

	mu   sync.Mutex
	gen  int64     // generation base was loaded at; guarded by mu
	base *Snapshot // nil until the first load; guarded by mu
}

// NewCache returns a cache over r, resolving CODEOWNERS owners with mapping
// (see LoadOptions.CodeOwnersMapping).
func NewCache(r GenerationReader, mapping map[string]string) *Cache {
	return &Cache{r: r, mapping: mapping}
}

// WithActivity makes the snapshots read commit history for
// activity-owner-mismatch. It must be called before the first Load.
func (c *Cache) WithActivity(opt ActivityOptions) *Cache {
	c.activity = opt
	return c
}

// Load returns a snapshot with the ownership changes after since; the
// catalog part is reloaded when the generation moved or when containers
// are wanted and the cached snapshot lacks them.
func (c *Cache) Load(ctx context.Context, since time.Time, withContainers bool) (*Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen, err := c.r.Generation(ctx)
	if err != nil {
		return nil, fmt.Errorf("drift: generation: %w", err)
	}
	if c.base == nil || gen != c.gen || (withContainers && !c.base.withContainers) {
		// Read the generation first: a sync landing during the load makes
		// the next call reload, never the reverse.
		base, err := Load(ctx, c.r, LoadOptions{Since: since, CodeOwnersMapping: c.mapping, WithContainers: withContainers || (c.base != nil && c.base.withContainers), Activity: c.activity})
		if err != nil {
			return nil, err
		}
		c.base, c.gen = base, gen
		return base, nil
	}
	changes, err := c.r.OwnershipChanges(ctx, since)
	if err != nil {
		return nil, wrap("ownership changes", err)
	}
	s := *c.base // shares the read-only catalog part
	s.Since, s.changes = since, changes
	if c.activity.History != nil {
		// A sync that changed code but no descriptor moves a source's
		// commit without changing the generation: read the sources again.
		// The history reader keeps what it read, so this walks only new
		// commits.
		srcs, err := c.r.Sources(ctx)
		if err != nil {
			return nil, wrap("sources", err)
		}
		s.sources = make(map[string]*source, len(srcs))
		for _, src := range srcs {
			so := &source{Source: src}
			if old := c.base.sources[src.Name]; old != nil && old.CodeOwners == src.CodeOwners {
				so.codeOwners = old.codeOwners
			}
			s.sources[src.Name] = so
		}
		if err := s.loadActivity(ctx, c.activity); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// Run is the cached counterpart of the package's Run.
func (c *Cache) Run(ctx context.Context, since time.Time, rules []Rule, f Filter) ([]Finding, error) {
	s, err := c.Load(ctx, since, f.NeedsContainers())
	if err != nil {
		return nil, err
	}
	return s.Report(rules, f)
}
