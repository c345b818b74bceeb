package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/catalog"
)

var _ catalog.ChangeLog = (*Store)(nil)

// The change log (migration 0013): each sync that bumps the generation to
// G writes, in its own transaction, one entity_changes row: G and the
// canonical refs it changed, as a sorted JSON array of strings:
//
//   - every entity it adds, rewrites (any of its columns: fields, document,
//     origin) or removes;
//   - every target of the relation rows those entities held before the
//     sync and hold after it, when the row has an inverse type: Entity and
//     Relations return that inverse as the target's relation (a Group's
//     ownerOf), so the target's answer changed. A target is logged whenever
//     an entity naming it is rewritten, even when that edge stayed the same:
//     comparing the rows would cost the sync more than the reader's extra
//     lookup of one summary.
//
// One row per generation rather than one per ref: a first sync of 100,000
// entities spread over 500 sources is 500 syncs small enough to log, and
// a row per ref cost Postgres 100,000 more index entries, written and
// deleted again by pruning. Measured on that sync (ingest BenchmarkSync
// 500repos-full, loaded 2-core machine), Postgres server CPU was 10.5 and
// 11.5 s with a row per ref, 8.8 and 9.2 s with a row per generation,
// against 7.8 to 9.5 s (4 runs) without the log.
//
// meta's changes_from is the generation the log reaches back to: the rows
// hold every change of the generations after it. Changes(since) is complete
// only for since >= changes_from.

// changeLogMax is how many refs one sync logs at most. A sync that changes
// more logs none of them and moves changes_from to its own generation
// instead: a reader behind it reads the whole catalog, which then costs
// about as much as reading that many summaries by ref, and a first sync of
// a large catalog must not pay for logging 100,000 refs no reader needs.
// The refs are gathered in Go and written once the sync ends within the
// bound (finishChangeLog), so such a sync writes nothing in vain.
const changeLogMax = 10000

// changeLogKeep is how many generations the change log keeps at least: a
// sync that bumps the generation to G, a multiple of a tenth of
// changeLogKeep, deletes the rows of generations up to G - changeLogKeep
// and moves changes_from there. A reader following the log is a few
// generations behind at most; one further behind (a replica that was
// stopped) reads everything once. With changeLogMax it bounds the log to
// 1.1 * changeLogKeep rows of at most changeLogMax refs each (a few refs
// in practice) on a bot that syncs every minute for years.
const changeLogKeep = 100

func (s *Store) changeLogMax() int {
	if s.logMax > 0 {
		return s.logMax
	}
	return changeLogMax
}

func (s *Store) changeLogKeep() int64 {
	if s.logKeep > 0 {
		return int64(s.logKeep)
	}
	return changeLogKeep
}

// changeLog is what one sync's transaction logs.
type changeLog struct {
	// refs are the refs to log, written by finishChangeLog.
	refs map[string]struct{}
	// full is set once refs would pass changeLogMax: nothing more is
	// logged, and finishChangeLog moves the log's start to the sync's
	// generation.
	full bool
}

// logRef adds ref to the refs this sync logs.
func (w *writer) logRef(ref string) {
	l := &w.log
	if l.full {
		return
	}
	if l.refs == nil {
		l.refs = map[string]struct{}{}
	}
	l.refs[ref] = struct{}{}
	if len(l.refs) > w.s.changeLogMax() {
		l.full, l.refs = true, nil
	}
}

// logRefs is logRef for each of refs.
func (w *writer) logRefs(refs []string) {
	for _, r := range refs {
		w.logRef(r)
	}
}

// logTargetsOf logs, as changed by this sync, the targets of the stored
// relations of the entities named by sources that have an inverse (which
// the target's answers show), read in one statement (Postgres) or one per
// 500 sources (SQLite). It runs before those relations are deleted, so
// that the targets they had are logged; writeEntities logs the targets of
// the relations it writes.
func (w *writer) logTargetsOf(ctx context.Context, sources []string) error {
	l := &w.log
	if len(sources) == 0 || l.full {
		return nil
	}
	if len(l.refs)+len(sources) > w.s.changeLogMax() {
		// The sources alone will be logged, and each has a target or more.
		l.full, l.refs = true, nil
		return nil
	}
	err := w.s.selectWhereIn(ctx, w.tx, "SELECT DISTINCT target_ref FROM relations WHERE inverse_type <> '' AND source_ref", nil, sources,
		func(rows *sqlx.Rows) error {
			var ref string
			if err := rows.Scan(&ref); err != nil {
				return err
			}
			w.logRef(ref)
			return nil
		})
	if err != nil {
		return fmt.Errorf("log changes: %w", err)
	}
	return nil
}

// finishChangeLog ends the sync's part of the change log once it bumped
// the generation to gen: it writes the generation's row, or, when the sync
// changed too many refs to log (or, defensively, logged none), drops the
// log up to gen, where it then starts. It prunes the generations past
// changeLogKeep. The caller holds the sync write lock (finishSync).
func (w *writer) finishChangeLog(ctx context.Context, gen int64) error {
	l := &w.log
	if len(l.refs) == 0 {
		// Every change is logged by the paths above; one that is not
		// must not leave the log saying nothing changed.
		l.full = true
	}
	if !l.full {
		refs := make([]string, 0, len(l.refs))
		for r := range l.refs {
			// As cleanRows stored the entities' and relations' refs.
			refs = append(refs, cleanString(r))
		}
		slices.Sort(refs)
		enc, err := json.Marshal(slices.Compact(refs))
		if err != nil {
			return fmt.Errorf("log changes: %w", err)
		}
		if _, err := w.tx.ExecContext(ctx, w.tx.Rebind("INSERT INTO entity_changes (generation, refs) VALUES (?, ?)"), gen, string(enc)); err != nil {
			return fmt.Errorf("log changes: %w", err)
		}
	}
	keep := w.s.changeLogKeep()
	from := gen - keep
	switch {
	case l.full:
		from = gen
	case gen%max(1, keep/10) != 0:
		// Pruned every tenth of changeLogKeep generations: two statements
		// fewer for the other syncs, a first sync of 500 sources above
		// all, for at most a tenth more rows kept.
		return nil
	}
	res, err := w.tx.ExecContext(ctx, w.tx.Rebind("UPDATE meta SET value = ? WHERE key = 'changes_from' AND value < ?"), from, from)
	if err != nil {
		return fmt.Errorf("move change log start: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := w.tx.ExecContext(ctx, w.tx.Rebind("DELETE FROM entity_changes WHERE generation <= ?"), from); err != nil {
		return fmt.Errorf("prune change log: %w", err)
	}
	return nil
}

// Changes returns the refs changed after generation since; see
// catalog.ChangeLog. Generation is the generation read first: the refs are
// those logged after since when they are read, which may include some of
// a sync committed meanwhile (a reader that reads their summaries then
// holds them newer than Generation, and reads them again next time). The
// log's start is read again after the refs: a sync committed meanwhile
// may have pruned rows the refs needed, and the answer is then incomplete.
func (s *Store) Changes(ctx context.Context, since int64) (catalog.Changes, error) {
	gen, from, err := s.logBounds(ctx)
	if err != nil {
		return catalog.Changes{}, s.wrap("changes", err)
	}
	out := catalog.Changes{Generation: gen}
	switch {
	case since == gen:
		out.Complete = true
		return out, nil
	case since > gen, since < from:
		// A store reset or restored behind the reader, or a log that does
		// not reach back to since.
		return out, nil
	}
	keys, err := s.loggedSince(ctx, since)
	if err != nil {
		return catalog.Changes{}, s.wrap("changes", err)
	}
	if _, from, err = s.logBounds(ctx); err != nil {
		return catalog.Changes{}, s.wrap("changes", err)
	}
	if since < from {
		return out, nil
	}
	out.Refs = make([]catalog.Ref, len(keys))
	for i, k := range keys {
		out.Refs[i] = splitRef(k)
	}
	out.Complete = true
	return out, nil
}

// loggedSince returns the refs logged after generation since, sorted and
// unique.
func (s *Store) loggedSince(ctx context.Context, since int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT generation, refs FROM entity_changes WHERE generation > ?"), since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var (
			gen  int64
			enc  string
			refs []string
		)
		if err := rows.Scan(&gen, &enc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(enc), &refs); err != nil {
			return nil, fmt.Errorf("refs of generation %d: %w", gen, err)
		}
		keys = append(keys, refs...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// logBounds returns the generation and the change log's start, read in one
// statement.
func (s *Store) logBounds(ctx context.Context) (gen, from int64, err error) {
	var rows []struct {
		Key   string `db:"key"`
		Value int64  `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT key, value FROM meta WHERE key IN ('generation', 'changes_from')"); err != nil {
		return 0, 0, err
	}
	found := 0
	for _, r := range rows {
		switch r.Key {
		case "generation":
			gen, found = r.Value, found+1
		case "changes_from":
			from, found = r.Value, found+1
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("meta has %d of generation and changes_from, want both", found)
	}
	return gen, from, nil
}

// SummariesOf returns the summaries of those of refs the catalog holds,
// compared case-insensitively, sorted by canonical ref, as Summaries makes
// them; see catalog.ChangeLog.
func (s *Store) SummariesOf(ctx context.Context, refs []catalog.Ref) ([]catalog.Summary, error) {
	keys := make([]string, len(refs))
	for i, r := range refs {
		keys[i] = r.String()
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	sr := summaryReader{in: interner{}}
	for q, a := range s.whereIn("SELECT "+summaryColumns+" FROM entities WHERE ref", nil, keys) {
		if err := s.querySummaries(ctx, &sr, q, a); err != nil {
			return nil, s.wrap("summaries of refs", err)
		}
	}
	return sr.sorted(), nil
}
