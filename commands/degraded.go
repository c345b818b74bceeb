package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
)

// readStateKey is the context key of a request's *readState.
type readStateKey struct{}

// readState records, for one request, whether its answer was read from a
// snapshot of the catalog that the store could not confirm (issue 8,
// degraded modes: answer from what is cached, saying how old it is).
type readState struct {
	// asOf is the unix nanoseconds since which the snapshot read is known
	// current; 0 while every read was confirmed.
	asOf atomic.Int64
}

// withReadState wraps a catalog command so that an answer read while the
// database is unreachable says so and how old it is. What cannot be read
// from memory fails with catalog.ErrUnavailable, which the router answers
// with "the catalog is temporarily unavailable".
func (h *handlers) withReadState(fn HandlerFunc) HandlerFunc {
	return func(ctx context.Context, req *Request) (Reply, error) {
		st := &readState{}
		rep, err := fn(context.WithValue(ctx, readStateKey{}, st), req)
		asOf := st.asOf.Load()
		if asOf == 0 {
			return rep, err
		}
		note := staleNote(h.idx.now().Sub(time.Unix(0, asOf)))
		var ue *UserError
		switch {
		case err == nil:
			rep.Text = joinText(rep.Text, note)
		case errors.As(err, &ue):
			// A miss or an ambiguity judged on an old snapshot may be wrong.
			err = &UserError{Msg: joinText(ue.Msg, note)}
		}
		return rep, err
	}
}

// staleNote tells the reader that an answer comes from memory because the
// database does not answer.
func staleNote(age time.Duration) string {
	return "(From the catalog as of " + ago(age) + "; the database is unreachable.)"
}

// ago says how long age is in words: "less than a minute ago",
// "3 minutes ago", "2 hours ago", "4 days ago".
func ago(age time.Duration) string {
	n, unit := 0, ""
	switch {
	case age < time.Minute:
		return "less than a minute ago"
	case age < time.Hour:
		n, unit = int(age/time.Minute), "minute"
	case age < 48*time.Hour:
		n, unit = int(age/time.Hour), "hour"
	default:
		n, unit = int(age/(24*time.Hour)), "day"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit + " ago"
}

func joinText(text, note string) string {
	if text == "" {
		return note
	}
	return text + "\n\n" + note
}

// DefaultStoreTimeout bounds each catalog store call a command waits for
// when Params.StoreTimeout is zero. Point lookups take milliseconds on a
// healthy database; 1.5 s leaves room within Slack's 2 s answer budget
// (3 s acknowledgement deadline) to answer "temporarily unavailable", or
// from memory, in the acknowledgement itself when the database hangs.
const DefaultStoreTimeout = 1500 * time.Millisecond

// bulkTimeout bounds the store calls that read the whole catalog to
// rebuild the index (Summaries) or warm the cache (Entities of a kind).
// They run in the background: a request waits for them at most the store
// timeout, then answers from the snapshot it has. 100,000 entities take
// about a second.
const bulkTimeout = time.Minute

// boundedStore is a catalog.Store whose reads return within a deadline
// even when the store does not: a store whose driver ignores ctx (as
// lib/pq did on a frozen server) cannot hold a chat user. Writes pass
// through unchanged; commands do not write.
type boundedStore struct {
	catalog.Store
	d time.Duration // point reads
}

// bounded runs call with a deadline of d and returns when call returns or
// the deadline passes, whichever comes first. A call cut short goes on in
// the background and its result is dropped; its error, like that of a
// call that failed because the deadline passed, wraps
// catalog.ErrUnavailable. When ctx itself ends first, ctx's error is
// returned.
func bounded[T any](ctx context.Context, d time.Duration, call func(context.Context) (T, error)) (T, error) {
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
	return bounded(ctx, s.d, func(ctx context.Context) (*catalog.Entity, error) { return s.Store.Entity(ctx, ref) })
}

// Entities bounds a lookup by refs as a point read and a listing (the
// cache warm-up) as a bulk one.
func (s boundedStore) Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	d := s.d
	if len(q.Refs) == 0 {
		d = max(d, bulkTimeout)
	}
	return bounded(ctx, d, func(ctx context.Context) ([]*catalog.Entity, error) { return s.Store.Entities(ctx, q) })
}

func (s boundedStore) Relations(ctx context.Context, ref catalog.Ref) ([]catalog.Relation, error) {
	return bounded(ctx, s.d, func(ctx context.Context) ([]catalog.Relation, error) { return s.Store.Relations(ctx, ref) })
}

func (s boundedStore) RelationsOfType(ctx context.Context, typ string) ([]catalog.Relation, error) {
	return bounded(ctx, max(s.d, bulkTimeout), func(ctx context.Context) ([]catalog.Relation, error) {
		return s.Store.RelationsOfType(ctx, typ)
	})
}

func (s boundedStore) Definition(ctx context.Context, ref catalog.Ref) (string, error) {
	return bounded(ctx, s.d, func(ctx context.Context) (string, error) { return s.Store.Definition(ctx, ref) })
}

func (s boundedStore) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	return bounded(ctx, max(s.d, bulkTimeout), s.Store.Summaries)
}

func (s boundedStore) Generation(ctx context.Context) (int64, error) {
	return bounded(ctx, s.d, s.Store.Generation)
}

func (s boundedStore) Counts(ctx context.Context) (map[string]int, error) {
	return bounded(ctx, s.d, s.Store.Counts)
}

func (s boundedStore) Sources(ctx context.Context) ([]catalog.Source, error) {
	return bounded(ctx, s.d, s.Store.Sources)
}

func (s boundedStore) Source(ctx context.Context, name string) (catalog.Source, error) {
	return bounded(ctx, s.d, func(ctx context.Context) (catalog.Source, error) { return s.Store.Source(ctx, name) })
}

func (s boundedStore) ProcessingErrors(ctx context.Context, source string) ([]catalog.ProcessingError, error) {
	return bounded(ctx, s.d, func(ctx context.Context) ([]catalog.ProcessingError, error) {
		return s.Store.ProcessingErrors(ctx, source)
	})
}

func (s boundedStore) OwnershipChanges(ctx context.Context, since time.Time) ([]catalog.OwnershipChange, error) {
	return bounded(ctx, s.d, func(ctx context.Context) ([]catalog.OwnershipChange, error) {
		return s.Store.OwnershipChanges(ctx, since)
	})
}

// boundedDrift bounds the drift command's reads as boundedStore does the
// others': the store must answer a generation check within the store
// timeout before the findings are computed (about a second at 100,000
// entities), and those within bulkTimeout.
type boundedDrift struct {
	DriftSource
	store boundedStore
}

func (b boundedDrift) Findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error) {
	if _, err := b.store.Generation(ctx); err != nil {
		return nil, err
	}
	return bounded(ctx, max(b.store.d, bulkTimeout), func(ctx context.Context) ([]drift.Finding, error) {
		return b.DriftSource.Findings(ctx, since, f)
	})
}
