package view

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// RefreshEvery is how often the view asks the store whether the catalog
// changed. Generation is one cheap query, so a second keeps answers at most
// that stale after a sync without adding a query to every read.
const RefreshEvery = time.Second

// Params are the dependencies of a View built by New.
type Params struct {
	// Store is the catalog the view reads. Required. The view bounds each
	// of its reads by Timeout (see Bound); pass the store unbounded.
	Store catalog.Store
	// Timeout bounds how long a read waits for the store: a check of the
	// generation (and a rebuild) under way, or a load of entities the
	// cache does not hold. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the cache warm-up's outcome; nil discards it.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. Tests set it to
	// age snapshots without waiting.
	Now func() time.Time
}

// View is the in-memory read model of the catalog: summaries of every
// entity, indexed by ref, name, title, owner and words, brought up to date
// when Store.Generation changes (patched with the entities changed since
// when the store is a catalog.ChangeLog, else rebuilt from
// Store.Summaries), plus a cache of the full entities recently read. It
// is safe for concurrent use.
type View struct {
	store catalog.Store // bounded by wait
	// changes is the store's change log, bounded as store is; nil when
	// the store keeps none, and every change is then a full rebuild.
	changes catalog.ChangeLog
	now     func() time.Time
	logger  *slog.Logger
	cache   *entityCache
	// wait bounds how long a read waits for a check (and a rebuild) under
	// way before it answers from the snapshot it has, or without one fails
	// with catalog.ErrUnavailable; the check goes on in the background.
	wait time.Duration

	snap    atomic.Pointer[build]
	checked atomic.Int64 // unix nanoseconds of the last generation check, failed or not
	// expired counts the calls of Expire: a check that began before one
	// does not count as recent.
	expired atomic.Int64
	// confirmed is the unix nanoseconds of the last generation check that
	// the store answered: the snapshot is known current as of then.
	confirmed atomic.Int64
	// down is set when the last check, or a load since, found the store
	// unreachable; the next successful check clears it.
	down atomic.Bool

	// mu guards running, so that a changed catalog is loaded once; while a
	// check runs, readers with a snapshot keep using it.
	mu      sync.Mutex
	running *check // the check under way, nil when none; guarded by mu
}

// check is one generation check of the view, and the rebuild it leads
// to. Its fields are written before done is closed.
type check struct {
	done chan struct{}
	b    *build
	err  error
	// answered is set once the store answered the generation check: a
	// check still waiting for it when a request stops waiting means
	// that the store does not answer in time.
	answered atomic.Bool
}

// New returns a view of p.Store. Nothing is read until the first
// Snapshot. It panics without a Store (a wiring mistake).
func New(p Params) *View {
	if p.Store == nil {
		panic("view: New needs a Store")
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	v := &View{
		store:  Bound(p.Store, p.Timeout),
		now:    p.Now,
		logger: p.Logger.With("component", "catalog/view"),
		cache:  newEntityCache(entityCacheBytes),
		wait:   p.Timeout,
	}
	if cl, ok := p.Store.(catalog.ChangeLog); ok {
		v.changes = boundChangeLog(cl, p.Timeout)
	}
	return v
}

// Snapshot returns a current snapshot: the one in memory when it was
// checked less than a second ago or the generation has not changed, else
// a rebuilt one. When the store is unreachable (catalog.ErrUnavailable)
// and a snapshot was built before, that snapshot is returned with
// Cached set and the time it was last known current; the store is asked
// again at most once a second, so the view recovers by itself once the
// database is back. A read waits for a check at most the view's Timeout:
// a hung database or a slow rebuild holds no one, except that without any
// snapshot a read waits for the first one once the store has answered the
// generation check. Other store errors are returned wrapped.
func (v *View) Snapshot(ctx context.Context) (Snapshot, error) {
	b := v.snap.Load()
	now := v.now()
	recent := now.UnixNano()-v.checked.Load() < int64(RefreshEvery)
	if b != nil && recent {
		return v.served(b, now), nil
	}
	c, mine := v.startCheck(ctx, now, b)
	if b != nil && !mine {
		// Another read is checking or rebuilding: answer from the
		// current snapshot rather than queue behind a slow or hung
		// database call.
		return v.served(b, now), nil
	}
	t := time.NewTimer(v.wait)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		switch {
		case !c.answered.Load():
			v.down.Store(true)
		case b == nil:
			// The store answered and the first snapshot is being built
			// (a second or so at 100,000 entities): there is nothing else
			// to answer from, and its reads are bounded by BulkTimeout.
			select {
			case <-c.done:
				return v.fresh(c.b, now), c.err
			case <-ctx.Done():
				return Snapshot{}, ctx.Err()
			}
		}
		if b != nil {
			return v.served(b, now), nil
		}
		return Snapshot{}, fmt.Errorf("view: no snapshot within %v: %w", v.wait, catalog.ErrUnavailable)
	case <-ctx.Done():
		return Snapshot{}, ctx.Err()
	}
	if c.err != nil {
		if b != nil && errors.Is(c.err, catalog.ErrUnavailable) {
			return v.served(b, now), nil
		}
		return Snapshot{}, c.err
	}
	return v.fresh(c.b, now), nil
}

// served is b as read at now from memory: cached when the store was found
// unreachable since the last check it answered.
func (v *View) served(b *build, now time.Time) Snapshot {
	s := Snapshot{v: v, b: b, readAt: now}
	if v.down.Load() {
		s.cached = true
		s.asOf = time.Unix(0, v.confirmed.Load())
	}
	return s
}

// fresh is b as just checked against the store at now.
func (v *View) fresh(b *build, now time.Time) Snapshot {
	if b == nil {
		return Snapshot{}
	}
	return Snapshot{v: v, b: b, readAt: now}
}

// startCheck returns the check under way, or starts one from snapshot b
// found at now; mine reports that it started it. The check runs on
// without ctx's cancellation, so that a rebuild a read gave up waiting
// for still serves the next ones.
func (v *View) startCheck(ctx context.Context, now time.Time, b *build) (c *check, mine bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.running != nil {
		return v.running, false
	}
	c = &check{done: make(chan struct{})}
	v.running = c
	go func() {
		defer func() {
			v.mu.Lock()
			v.running = nil
			v.mu.Unlock()
			close(c.done)
		}()
		c.b, c.err = v.check(context.WithoutCancel(ctx), c, now, b)
	}()
	return c, true
}

// check asks the store for the generation and, when it changed, patches
// or rebuilds the snapshot, brings the entity cache along and publishes
// the result.
func (v *View) check(ctx context.Context, c *check, now time.Time, b *build) (*build, error) {
	ep := v.expired.Load()
	nb, p, err := v.refresh(ctx, c, b)
	if err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			v.down.Store(true)
			v.markChecked(ep, now)
		}
		return nil, err
	}
	switch {
	case p != nil:
		// The cache entries of unchanged entities hold at nb.gen: no
		// warm-up. The search indexes, patched or built, are not on the
		// way to publishing.
		v.cache.carry(p.from, nb.gen, p.changed)
		v.snap.Store(nb)
		go v.indexLater(nb)
	case nb != b:
		// The search indexes are built while the warm-up waits on the
		// store, rather than before it.
		go v.indexLater(nb)
		v.warmSnapshot(ctx, nb.gen)
		v.snap.Store(nb)
	}
	v.down.Store(false)
	v.confirmed.Store(now.UnixNano())
	v.markChecked(ep, now)
	return nb, nil
}

// markChecked records a check begun at now, unless Expire was called
// since it began (when expired was ep): what Expire announced may have
// landed after the check read the generation.
func (v *View) markChecked(ep int64, now time.Time) {
	if v.expired.Load() == ep {
		v.checked.Store(now.UnixNano())
	}
}

// Expire makes the next Snapshot ask the store whether the catalog
// changed, however recently it last asked. A part of this process that
// changed the catalog itself (a template run that registered an entity)
// calls it, so that the change is answered at once rather than up to
// RefreshEvery later.
func (v *View) Expire() {
	v.expired.Add(1)
	v.checked.Store(0)
}

// refresh returns b when the store's generation is still b's, else b
// patched with the changes the store logged since (and how), or when it
// cannot tell them or they are many, a snapshot built from every summary.
func (v *View) refresh(ctx context.Context, c *check, b *build) (*build, *patched, error) {
	gen, err := v.store.Generation(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("view generation: %w", err)
	}
	c.answered.Store(true)
	if b != nil && b.gen == gen {
		return b, nil, nil
	}
	if b != nil && v.changes != nil {
		nb, p, err := v.patchFrom(ctx, b, gen)
		if err != nil || nb != nil {
			return nb, p, err
		}
	}
	sums, err := v.store.Summaries(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("view summaries: %w", err)
	}
	return newBuild(gen, sums), nil, nil
}

// indexLater builds the search indexes of b, a build published or about
// to be, unless another of its generation or a later one replaced it
// meanwhile: the first search then finds them built rather than waiting
// for them.
func (v *View) indexLater(b *build) {
	for _, index := range []func(){func() { b.nameIdx() }, func() { b.textIdx() }, func() { b.wordIdx() }} {
		if cur := v.snap.Load(); cur != nil && cur != b && cur.gen >= b.gen {
			return
		}
		index()
	}
}

// Unreachable reports whether the store was found unreachable since the
// last generation check it answered. A caller reading the store for
// something the view does not hold should then fail at once with
// catalog.ErrUnavailable rather than wait on a dead connection.
func (v *View) Unreachable() bool { return v.down.Load() }

// MarkUnreachable records that a read of the store failed with
// catalog.ErrUnavailable: until the next check answers, snapshots are
// served as Cached.
func (v *View) MarkUnreachable() { v.down.Store(true) }
