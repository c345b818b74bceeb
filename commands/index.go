package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// refreshEvery is how often the index asks the store whether the catalog
// changed. Generation is one cheap query, so a second keeps answers at most
// that stale after a sync without adding a query to every command.
const refreshEvery = time.Second

// index is the in-memory view of the catalog that commands resolve names
// and search against, rebuilt from Store.Summaries when Store.Generation
// changes. It is safe for concurrent use.
type index struct {
	store catalog.Store
	now   func() time.Time
	// built, when set, is called with each new snapshot before it is
	// published, by the check that built it.
	built func(context.Context, *snapshot)
	// wait bounds how long a request waits for a check (and a rebuild)
	// under way before it answers from the snapshot it has, or without
	// one fails with catalog.ErrUnavailable; the check goes on in the
	// background. Zero means DefaultStoreTimeout.
	wait time.Duration

	snap    atomic.Pointer[snapshot]
	checked atomic.Int64 // unix nanoseconds of the last generation check, failed or not
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

// check is one generation check of the index, and the rebuild it leads
// to. Its fields are written before done is closed.
type check struct {
	done chan struct{}
	snap *snapshot
	err  error
	// answered is set once the store answered the generation check: a
	// check still waiting for it when a request stops waiting means
	// that the store does not answer in time.
	answered atomic.Bool
}

// snapshot is one immutable build of the index.
type snapshot struct {
	gen     int64
	entries []entry
	byRef   map[string]int   // canonical ref -> entries index
	byName  map[string][]int // lower-case name -> entries indexes
	byTitle map[string][]int // lower-case title, spaces collapsed -> entries indexes
	owned   map[string][]int // canonical owner ref -> owned entries, sorted
	names   []string         // distinct lower-case names, sorted
	near    *nameIndex       // over names
	text    textIndex        // over the searched fields of entries
	words   wordIndex        // the words of the searched fields, for typos
}

// entry is one entity of the index with its search fields lower-cased once.
type entry struct {
	sum   catalog.Summary
	ref   string // canonical ref
	name  string
	title string
	desc  string
	tags  []string
	owner string // lower-case owner name (without kind and namespace)
	rank  int    // rankOfKind of the kind, once: less runs for every hit of a search
}

func newIndex(store catalog.Store) *index {
	return &index{store: store, now: time.Now}
}

// get returns a current snapshot: the cached one when it was checked less
// than refreshEvery ago or the generation has not changed, else a rebuilt
// one. When the store is unreachable (catalog.ErrUnavailable) and a
// snapshot was built before, that snapshot is returned and the request's
// readState (see withReadState) learns how old it is; the store is asked
// again at most once per refreshEvery, so the engine recovers by itself
// once the database is back. A request waits
// for a check at most x.wait: a hung database or a slow rebuild holds no
// one, except that without any snapshot a request waits for the first
// one once the store has answered the generation check. Other store
// errors are returned wrapped.
func (x *index) get(ctx context.Context) (*snapshot, error) {
	s := x.snap.Load()
	now := x.now()
	recent := now.UnixNano()-x.checked.Load() < int64(refreshEvery)
	if s != nil && recent {
		x.noteStale(ctx)
		return s, nil
	}
	c, mine := x.startCheck(ctx, now, s)
	if s != nil && !mine {
		// Another request is checking or rebuilding: answer from the
		// current snapshot rather than queue behind a slow or hung
		// database call.
		x.noteStale(ctx)
		return s, nil
	}
	wait := x.wait
	if wait <= 0 {
		wait = DefaultStoreTimeout
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		switch {
		case !c.answered.Load():
			x.down.Store(true)
		case s == nil:
			// The store answered and the first snapshot is being built
			// (a second or so at 100,000 entities): there is nothing else
			// to answer from, and its reads are bounded by bulkTimeout.
			select {
			case <-c.done:
				return c.snap, c.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if s != nil {
			x.noteStale(ctx)
			return s, nil
		}
		return nil, fmt.Errorf("index: no snapshot within %v: %w", wait, catalog.ErrUnavailable)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		if s != nil && errors.Is(c.err, catalog.ErrUnavailable) {
			x.noteStale(ctx)
			return s, nil
		}
		return nil, c.err
	}
	return c.snap, nil
}

// startCheck returns the check under way, or starts one from snapshot s
// found at now; mine reports that it started it. The check runs on
// without ctx's cancellation, so that a rebuild a request gave up waiting
// for still serves the next ones.
func (x *index) startCheck(ctx context.Context, now time.Time, s *snapshot) (c *check, mine bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running != nil {
		return x.running, false
	}
	c = &check{done: make(chan struct{})}
	x.running = c
	go func() {
		defer func() {
			x.mu.Lock()
			x.running = nil
			x.mu.Unlock()
			close(c.done)
		}()
		c.snap, c.err = x.check(context.WithoutCancel(ctx), c, now, s)
	}()
	return c, true
}

// check asks the store for the generation and rebuilds the snapshot when
// it changed, publishing the result.
func (x *index) check(ctx context.Context, c *check, now time.Time, s *snapshot) (*snapshot, error) {
	ns, err := x.refresh(ctx, c, s)
	if err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			x.down.Store(true)
			x.checked.Store(now.UnixNano())
		}
		return nil, err
	}
	if ns != s {
		if x.built != nil {
			x.built(ctx, ns)
		}
		x.snap.Store(ns)
	}
	x.down.Store(false)
	x.confirmed.Store(now.UnixNano())
	x.checked.Store(now.UnixNano())
	return ns, nil
}

// refresh returns s when the store's generation is still s's, else a
// snapshot built from the store's summaries.
func (x *index) refresh(ctx context.Context, c *check, s *snapshot) (*snapshot, error) {
	gen, err := x.store.Generation(ctx)
	if err != nil {
		return nil, fmt.Errorf("index generation: %w", err)
	}
	c.answered.Store(true)
	if s != nil && s.gen == gen {
		return s, nil
	}
	sums, err := x.store.Summaries(ctx)
	if err != nil {
		return nil, fmt.Errorf("index summaries: %w", err)
	}
	return buildSnapshot(gen, sums), nil
}

// unreachable reports whether the store was found unreachable since the
// last successful generation check.
func (x *index) unreachable() bool { return x.down.Load() }

// markUnreachable records that a load failed with catalog.ErrUnavailable:
// until the next check answers, readers are told their answer may be old.
func (x *index) markUnreachable() { x.down.Store(true) }

// noteStale tells the request's readState, if any, that it reads a
// snapshot the store could not confirm, and since when it is known good.
func (x *index) noteStale(ctx context.Context) {
	if !x.down.Load() {
		return
	}
	if st, _ := ctx.Value(readStateKey{}).(*readState); st != nil {
		st.asOf.Store(x.confirmed.Load())
	}
}

func buildSnapshot(gen int64, sums []catalog.Summary) *snapshot {
	s := &snapshot{
		gen:     gen,
		entries: make([]entry, 0, len(sums)),
		byRef:   make(map[string]int, len(sums)),
		byName:  make(map[string][]int, len(sums)),
		byTitle: map[string][]int{},
		owned:   map[string][]int{},
	}
	for _, sm := range sums {
		if strings.EqualFold(sm.Ref.Kind, catalog.KindLocation) {
			continue // Locations are plumbing, never the answer to a question
		}
		e := entry{
			sum:   sm,
			ref:   sm.Ref.String(),
			name:  strings.ToLower(sm.Ref.Name),
			title: strings.ToLower(sm.Title),
			desc:  strings.ToLower(sm.Description),
			rank:  rankOfKind(sm.Ref.Kind),
		}
		for _, t := range sm.Tags {
			e.tags = append(e.tags, strings.ToLower(t))
		}
		if sm.Owner != "" {
			if o, err := catalog.ParseRef(sm.Owner, catalog.KindGroup, sm.Ref.Namespace); err == nil {
				e.owner = strings.ToLower(o.Name)
				e.sum.Owner = o.String()
			}
		}
		i := len(s.entries)
		s.entries = append(s.entries, e)
		s.byRef[e.ref] = i
		if _, seen := s.byName[e.name]; !seen {
			s.names = append(s.names, e.name)
		}
		s.byName[e.name] = append(s.byName[e.name], i)
		if t := titleKey(e.title); t != "" {
			s.byTitle[t] = append(s.byTitle[t], i)
		}
		if e.sum.Owner != "" {
			s.owned[e.sum.Owner] = append(s.owned[e.sum.Owner], i)
		}
	}
	sort.Strings(s.names)
	s.near = newNameIndex(s.names)
	s.text = buildTextIndex(s.entries)
	s.words = buildWordIndex(s.entries)
	for _, ids := range s.owned {
		sort.Slice(ids, func(a, b int) bool { return s.less(ids[a], ids[b]) })
	}
	return s
}

// kindRank orders kinds in listings: the things people ask about first.
var kindRank = map[string]int{
	"component": 0, "api": 1, "resource": 2, "system": 3, "domain": 4,
	"template": 5, "group": 6, "user": 7,
}

func rankOfKind(k string) int {
	if r, ok := kindRank[strings.ToLower(k)]; ok {
		return r
	}
	return len(kindRank)
}

// less orders entries by kind rank, then name, then canonical ref.
func (s *snapshot) less(a, b int) bool {
	ea, eb := &s.entries[a], &s.entries[b]
	if ea.rank != eb.rank {
		return ea.rank < eb.rank
	}
	if ea.name != eb.name {
		return ea.name < eb.name
	}
	return ea.ref < eb.ref
}

// lookup returns the entry for a canonical ref, or nil.
func (s *snapshot) lookup(ref catalog.Ref) *entry {
	if i, ok := s.byRef[ref.String()]; ok {
		return &s.entries[i]
	}
	return nil
}

// has reports whether the catalog holds ref.
func (s *snapshot) has(ref catalog.Ref) bool { return s.lookup(ref) != nil }

// titleKey is how a title is looked up: lower case, runs of spaces as one.
func titleKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
