package commands

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/view"
)

// readFunc is a catalog command that reads a snapshot of the catalog
// view: it returns the snapshot it answered from (the zero Snapshot when
// it read none) with its answer.
type readFunc func(ctx context.Context, req *Request) (view.Snapshot, Reply, error)

// fromSnapshot makes a HandlerFunc of a catalog command so that an answer
// read while the database is unreachable says so and how old it is
// (issue 8, degraded modes: answer from what is cached, saying how old it
// is). What cannot be read from memory fails with catalog.ErrUnavailable,
// which the router answers with "the catalog is temporarily unavailable".
func fromSnapshot(fn readFunc) HandlerFunc {
	return func(ctx context.Context, req *Request) (Reply, error) {
		s, rep, err := fn(ctx, req)
		if !s.Cached() {
			return rep, err
		}
		note := staleNote(s.Age())
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

// boundedDrift bounds the drift command's reads as view.Bound does the
// others': the store must answer a generation check within the store
// timeout before the findings are computed (about a second at 100,000
// entities), and those within view.BulkTimeout.
type boundedDrift struct {
	DriftSource
	store catalog.Store // bounded by d
	d     time.Duration
}

func (b boundedDrift) Findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error) {
	if _, err := b.store.Generation(ctx); err != nil {
		return nil, err
	}
	return view.Within(ctx, max(b.d, view.BulkTimeout), func(ctx context.Context) ([]drift.Finding, error) {
		return b.DriftSource.Findings(ctx, since, f)
	})
}
