package view

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// DefaultTimeout bounds each store call a read waits for when
// Params.Timeout is zero. Point lookups take milliseconds on a
// healthy database; 1.5 s leaves room within Slack's 2 s answer budget
// (3 s acknowledgement deadline) to answer "temporarily unavailable", or
// from memory, in the acknowledgement itself when the database hangs.
const DefaultTimeout = 1500 * time.Millisecond

// BulkTimeout bounds the store calls that read the whole catalog to
// rebuild the snapshot (Summaries) or warm the cache (Entities of a kind).
// They run in the background: a read waits for them at most the store
// timeout, then answers from the snapshot it has. 100,000 entities take
// about a second.
const BulkTimeout = time.Minute

// Bound returns st with every read bounded by d (BulkTimeout for those
// that read the whole catalog or a kind of it), as Within bounds a call:
// a store whose driver ignores ctx (as lib/pq did on a frozen server)
// cannot hold a chat user. Writes pass through unchanged.
func Bound(st catalog.Store, d time.Duration) catalog.Store {
	return boundedStore{Store: st, d: d}
}

// boundedStore is a catalog.Store whose reads return within a deadline
// even when the store does not.
type boundedStore struct {
	catalog.Store
	d time.Duration // point reads
}

// Within runs call with a deadline of d and returns when call returns or
// the deadline passes, whichever comes first. A call cut short goes on in
// the background and its result is dropped; its error, like that of a
// call that failed because the deadline passed, wraps
// catalog.ErrUnavailable. When ctx itself ends first, ctx's error is
// returned.
func Within[T any](ctx context.Context, d time.Duration, call func(context.Context) (T, error)) (T, error) {
	// cancel runs when this returns, never before: a call that returned
	// must not be reported as cut short.
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := call(cctx)
		ch <- result{v, err}
	}()
	var zero T
	select {
	case r := <-ch:
		if r.err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && !errors.Is(r.err, catalog.ErrUnavailable) {
			return zero, fmt.Errorf("no answer within %v: %w: %w", d, catalog.ErrUnavailable, r.err)
		}
		return r.v, r.err
	case <-cctx.Done():
		if err := ctx.Err(); err != nil {
			return zero, err
		}
		return zero, fmt.Errorf("no answer within %v: %w", d, catalog.ErrUnavailable)
	}
}

func (s boundedStore) Entity(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	return Within(ctx, s.d, func(ctx context.Context) (*catalog.Entity, error) { return s.Store.Entity(ctx, ref) })
}

// Entities bounds a lookup by refs as a point read and a listing (the
// cache warm-up) as a bulk one.
func (s boundedStore) Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	d := s.d
	if len(q.Refs) == 0 {
		d = max(d, BulkTimeout)
	}
	return Within(ctx, d, func(ctx context.Context) ([]*catalog.Entity, error) { return s.Store.Entities(ctx, q) })
}

func (s boundedStore) Relations(ctx context.Context, ref catalog.Ref) ([]catalog.Relation, error) {
	return Within(ctx, s.d, func(ctx context.Context) ([]catalog.Relation, error) { return s.Store.Relations(ctx, ref) })
}

func (s boundedStore) RelationsOfType(ctx context.Context, typ string) ([]catalog.Relation, error) {
	return Within(ctx, max(s.d, BulkTimeout), func(ctx context.Context) ([]catalog.Relation, error) {
		return s.Store.RelationsOfType(ctx, typ)
	})
}

func (s boundedStore) Definition(ctx context.Context, ref catalog.Ref) (string, error) {
	return Within(ctx, s.d, func(ctx context.Context) (string, error) { return s.Store.Definition(ctx, ref) })
}

func (s boundedStore) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	return Within(ctx, max(s.d, BulkTimeout), s.Store.Summaries)
}

func (s boundedStore) Generation(ctx context.Context) (int64, error) {
	return Within(ctx, s.d, s.Store.Generation)
}

func (s boundedStore) Counts(ctx context.Context) (map[string]int, error) {
	return Within(ctx, s.d, s.Store.Counts)
}

func (s boundedStore) Sources(ctx context.Context) ([]catalog.Source, error) {
	return Within(ctx, s.d, s.Store.Sources)
}

func (s boundedStore) Source(ctx context.Context, name string) (catalog.Source, error) {
	return Within(ctx, s.d, func(ctx context.Context) (catalog.Source, error) { return s.Store.Source(ctx, name) })
}

func (s boundedStore) ProcessingErrors(ctx context.Context, source string) ([]catalog.ProcessingError, error) {
	return Within(ctx, s.d, func(ctx context.Context) ([]catalog.ProcessingError, error) {
		return s.Store.ProcessingErrors(ctx, source)
	})
}

func (s boundedStore) OwnershipChanges(ctx context.Context, since time.Time) ([]catalog.OwnershipChange, error) {
	return Within(ctx, s.d, func(ctx context.Context) ([]catalog.OwnershipChange, error) {
		return s.Store.OwnershipChanges(ctx, since)
	})
}

// boundChangeLog returns cl with both its reads bounded as Bound bounds
// Summaries: they are part of bringing the snapshot up to date, which
// runs in the background and which a read waits for at most d.
func boundChangeLog(cl catalog.ChangeLog, d time.Duration) catalog.ChangeLog {
	return boundedChangeLog{cl: cl, d: max(d, BulkTimeout)}
}

// boundedChangeLog is a catalog.ChangeLog whose reads return within a
// deadline even when the store does not.
type boundedChangeLog struct {
	cl catalog.ChangeLog
	d  time.Duration
}

func (s boundedChangeLog) Changes(ctx context.Context, since int64) (catalog.Changes, error) {
	return Within(ctx, s.d, func(ctx context.Context) (catalog.Changes, error) { return s.cl.Changes(ctx, since) })
}

func (s boundedChangeLog) SummariesOf(ctx context.Context, refs []catalog.Ref) ([]catalog.Summary, error) {
	return Within(ctx, s.d, func(ctx context.Context) ([]catalog.Summary, error) { return s.cl.SummariesOf(ctx, refs) })
}
