package view

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/portalbot/portalbot/catalog"
)

// maxParallelLoads bounds the concurrent Store.Entity calls of Load.
// A handful of point lookups by primary key in parallel cost one round
// trip; an IN query over refs costs more on both SQLite and Postgres.
const maxParallelLoads = 8

// Load returns the full entities named by refs, by canonical ref; refs the
// catalog does not hold are simply absent. Entities the view's cache holds
// at the snapshot's generation are used as they are; of the rest, up to
// maxParallelLoads are looked up concurrently, more with one Entities
// query, each within the view's Timeout. While the store is known to be
// unreachable a miss fails at once with catalog.ErrUnavailable rather
// than waiting on a dead connection. The entities are shared with other
// readers and must not be modified.
func (s Snapshot) Load(ctx context.Context, refs []catalog.Ref) (map[string]*catalog.Entity, error) {
	v := s.v
	if v == nil {
		return nil, fmt.Errorf("load: %w", catalog.ErrUnavailable)
	}
	gen := s.Generation()
	out := make(map[string]*catalog.Entity, len(refs))
	var miss []catalog.Ref
	var missKeys []string
	for _, r := range refs {
		k := r.String()
		// An entity cached without its relations (LoadWithoutRelations)
		// is read again, with them.
		if ent, ok := v.cache.get(k, gen); ok && (ent == nil || !ent.RelationsOmitted) {
			if ent != nil {
				out[k] = ent
			}
			continue
		}
		miss = append(miss, r)
		missKeys = append(missKeys, k)
	}
	if len(miss) == 0 {
		return out, nil
	}
	if v.Unreachable() {
		return nil, fmt.Errorf("load %s: %w", missKeys[0], catalog.ErrUnavailable)
	}
	got, err := v.load(ctx, miss)
	if err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			v.MarkUnreachable()
		}
		return nil, err
	}
	for i, k := range missKeys {
		// got[i] is nil for a ref the catalog does not hold: cache that too,
		// so a dangling owner or member costs no query the next time.
		v.cache.put(k, gen, got[i])
		if got[i] != nil {
			out[k] = got[i]
		}
	}
	return out, nil
}

// LoadWithoutRelations returns the entity named by ref for an answer that
// reads none of its relations, or nil when the catalog does not hold it.
// An entity the view's cache holds at the snapshot's generation is
// returned as it is, with its relations or without; otherwise only the
// entity's row is read (catalog.Query.NoRelations, which sets
// RelationsOmitted) and cached: one indexed row rather than the entity and
// both directions of its relations, for the subject of every owner command
// (issue 19). Load reads an entity cached without relations again. Errors
// are Load's. The entity must not be modified.
func (s Snapshot) LoadWithoutRelations(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	v := s.v
	if v == nil {
		return nil, fmt.Errorf("load: %w", catalog.ErrUnavailable)
	}
	gen := s.Generation()
	k := ref.String()
	if ent, ok := v.cache.get(k, gen); ok {
		return ent, nil
	}
	if v.Unreachable() {
		return nil, fmt.Errorf("load %s: %w", k, catalog.ErrUnavailable)
	}
	got, err := v.store.Entities(ctx, catalog.Query{Refs: []catalog.Ref{ref}, NoRelations: true})
	if err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			v.MarkUnreachable()
		}
		return nil, fmt.Errorf("load %s: %w", k, err)
	}
	var ent *catalog.Entity
	if len(got) > 0 {
		ent = got[0]
		// Whatever the store did with NoRelations, Load reads this
		// entity again rather than answer from it.
		ent.RelationsOmitted = true
	}
	v.cache.put(k, gen, ent)
	return ent, nil
}

// load reads refs from the store; the result is parallel to refs, nil
// where the catalog has no such entity.
func (v *View) load(ctx context.Context, refs []catalog.Ref) ([]*catalog.Entity, error) {
	got := make([]*catalog.Entity, len(refs))
	if len(refs) > maxParallelLoads {
		ents, err := v.store.Entities(ctx, catalog.Query{Refs: refs})
		if err != nil {
			return nil, fmt.Errorf("load related entities: %w", err)
		}
		byRef := make(map[string]*catalog.Entity, len(ents))
		for _, e := range ents {
			byRef[e.Ref().String()] = e
		}
		for i, r := range refs {
			got[i] = byRef[r.String()]
		}
		return got, nil
	}
	if len(refs) == 1 {
		e, err := v.store.Entity(ctx, refs[0])
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return nil, fmt.Errorf("load %s: %w", refs[0], err)
		}
		got[0] = e
		return got, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, r := range refs {
		g.Go(func() error {
			e, err := v.store.Entity(gctx, r)
			if errors.Is(err, catalog.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("load %s: %w", r, err)
			}
			got[i] = e
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return got, nil
}

// warmKinds are the kinds loaded into the cache whenever the catalog
// changes: the owners, teams, people, systems and domains that answers
// about any entity name, so that a question about an entity nobody asked
// about before costs one point lookup, not three in a row.
var warmKinds = []string{catalog.KindGroup, catalog.KindUser, catalog.KindSystem, catalog.KindDomain}

// warmLimit bounds the entities of one kind loaded by a warm-up; the
// rest are loaded on demand.
const warmLimit = 20000

// warmSnapshot loads the warmKinds of a new snapshot at generation gen
// into the cache before the snapshot is published, so the first questions
// after a sync find them. Readers keep the previous snapshot meanwhile
// (see View.Snapshot). A failed warm-up is logged and leaves the rest to
// on-demand loads.
func (v *View) warmSnapshot(ctx context.Context, gen int64) {
	start := time.Now()
	n, err := v.warm(ctx, gen)
	if err != nil {
		v.logger.WarnContext(ctx, "cache warm-up stopped", "generation", gen, "entities", n, "err", err)
		return
	}
	v.logger.DebugContext(ctx, "cache warmed", "generation", gen, "entities", n, "took_s", time.Since(start).Seconds())
}

// warm loads the warmKinds at generation gen into the cache, until the
// cache is half full, and returns how many entities it cached.
func (v *View) warm(ctx context.Context, gen int64) (int, error) {
	n := 0
	for _, k := range warmKinds {
		if v.cache.bytes() > v.cache.limit/2 {
			return n, nil
		}
		ents, err := v.store.Entities(ctx, catalog.Query{Kind: k, Limit: warmLimit})
		if err != nil {
			return n, fmt.Errorf("warm %s: %w", k, err)
		}
		for _, e := range ents {
			v.cache.put(e.Ref().String(), gen, e)
		}
		n += len(ents)
	}
	return n, nil
}
