package commands

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"
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
