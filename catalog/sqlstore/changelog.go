package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/lib/pq"

	"github.com/portalbot/portalbot/catalog"
)

var _ catalog.ChangeLog = (*Store)(nil)

// The change log (migration 0013): each sync that bumps the generation to
// G writes, in its own transaction, one entity_changes row (G, ref) per
// ref it changed:
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
// meta's changes_from is the generation the log reaches back to: the rows
// hold every change of the generations after it. Changes(since) is complete
// only for since >= changes_from.

// changeLogMax is how many refs one sync logs at most. A sync that changes
// more logs none of them and moves changes_from to its own generation
// instead: a reader behind it reads the whole catalog, which then costs
// about as much as reading that many summaries by ref, and a first sync of
// a large catalog must not pay for logging 100,000 refs no reader needs.
// The refs known in Go (written, removed, new relation targets) are written
// only once the sync ends within the bound (finishChangeLog), so such a
// sync writes no log row in vain.
const changeLogMax = 10000

// changeLogKeep is how many generations the change log keeps: each sync that
// bumps the generation to G deletes the rows of generations up to G -
// changeLogKeep and moves changes_from there. A reader following the log
// is a few generations behind at most; one further behind (a replica that
// was stopped) reads everything once. With changeLogMax it bounds the log
// to a million rows, and to a few per generation in practice, on a bot that
// syncs every minute for years.
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
	// gen is the generation the sync makes, read with the write lock held
	// when logTargetsOf first logs; 0 before.
	gen int64
	// rows counts the rows logTargetsOf wrote.
	rows int
	// refs are the refs known in Go to log (those written or removed and
	// the targets of the relations written), written by finishChangeLog:
	// a sync that turns out to change more than changeLogMax, a first sync
	// above all, then never wrote them in vain.
	refs map[string]struct{}
	// full is set once rows and refs would pass changeLogMax: nothing more
	// is logged, and finishChangeLog moves the log's start to gen.
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
	if l.rows+len(l.refs) > w.s.changeLogMax() {
		l.full, l.refs = true, nil
	}
}

// logRefs is logRef for each of refs.
func (w *writer) logRefs(refs []string) {
	for _, r := range refs {
		w.logRef(r)
	}
}

// logInsert returns the statement start and end that insert into
// entity_changes and skip the rows already logged.
func (s *Store) logInsert() (start, end string) {
	if s.pg() {
		return "INSERT INTO entity_changes (generation, ref) ", " ON CONFLICT DO NOTHING"
	}
	return "INSERT OR IGNORE INTO entity_changes (generation, ref) ", ""
}

// logTargetsOf logs, as changed by this sync, the targets of the stored
// relations of the entities named by sources that have an inverse (which
// the target's answers show). It runs before those relations are deleted,
// so that the targets they had are logged; writeEntities logs the targets
// of the relations it writes. The caller holds the sync write lock
// (lockWrites): no other sync moves the generation until this one commits.
func (w *writer) logTargetsOf(ctx context.Context, sources []string) error {
	l := &w.log
	if len(sources) == 0 || l.full {
		return nil
	}
	if l.rows+len(l.refs)+len(sources) > w.s.changeLogMax() {
		l.full, l.refs = true, nil
		return nil
	}
	if l.gen == 0 {
		if err := w.tx.GetContext(ctx, &l.gen, "SELECT value FROM meta WHERE key = 'generation'"); err != nil {
			return fmt.Errorf("read generation: %w", err)
		}
		l.gen++
	}
	start, end := w.s.logInsert()
	for q, a := range w.s.whereIn(start+"SELECT DISTINCT CAST(? AS BIGINT), target_ref FROM relations WHERE inverse_type <> '' AND source_ref",
		[]any{l.gen}, sources) {
		res, err := w.tx.ExecContext(ctx, q+end, a...)
		if err != nil {
			return fmt.Errorf("log changes: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("log changes: %w", err)
		}
		l.rows += int(n)
	}
	if l.rows+len(l.refs) > w.s.changeLogMax() {
		l.full, l.refs = true, nil
	}
	return nil
}

// finishChangeLog ends the sync's part of the change log once it bumped
// the generation to gen: it writes the refs logged in Go, or, when the
// sync changed too many to log (or, defensively, logged nothing), drops
// the log up to gen, where it then starts. It prunes the generations past
// changeLogKeep.
func (w *writer) finishChangeLog(ctx context.Context, gen int64) error {
	l := &w.log
	if l.gen != 0 && l.gen != gen {
		return fmt.Errorf("log changes: logged as generation %d, made %d", l.gen, gen)
	}
	if l.rows+len(l.refs) == 0 {
		// Every change is logged by the paths above; one that is not
		// must not leave the log saying nothing changed.
		l.full = true
	}
	if !l.full && len(l.refs) > 0 {
		refs := make([]string, 0, len(l.refs))
		for r := range l.refs {
			// As cleanRows stored the entities' and relations' refs.
			refs = append(refs, cleanString(r))
		}
		slices.Sort(refs)
		start, end := w.s.logInsert()
		var err error
		if w.s.pg() {
			_, err = w.tx.ExecContext(ctx, start+"SELECT $1::bigint, unnest($2::text[])"+end, gen, pq.Array(refs))
		} else {
			rows := make([][]any, len(refs))
			for i, r := range refs {
				rows[i] = []any{gen, r}
			}
			err = w.execEach(ctx, start+"VALUES (?, ?)", rows)
		}
		if err != nil {
			return fmt.Errorf("log changes: %w", err)
		}
	}
	from := gen - w.s.changeLogKeep()
	if l.full {
		from = gen
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
	var keys []string
	if err := s.db.SelectContext(ctx, &keys, s.db.Rebind(
		"SELECT DISTINCT ref FROM entity_changes WHERE generation > ? ORDER BY ref"), since); err != nil {
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
