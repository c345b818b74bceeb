package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/catalog"
)

var _ catalog.SyncStreamer = (*Store)(nil)

// stream is a sync written file by file (catalog.SyncWriter). It holds what
// is stored for the source (a few short strings per entity) and at most
// writeChunk pending entities, never the whole catalog: issue 3 bounds a
// full sync of 100,000 entities to 300 MB peak RSS.
type stream struct {
	s    *Store
	conn *sqlx.Conn
	tx   *sqlx.Tx
	w    *writer
	src  catalog.Source
	now  time.Time
	nowV string
	done bool

	// existing are the source's stored entities by ref.
	existing map[string]*storedRow
	byPath   map[string][]string
	// claimed maps each ref this sync keeps or writes to its file.
	claimed map[string]string
	// listed are the paths added.
	listed map[string]bool
	// pending are candidates not yet decided; deferred are entities
	// stored under another file, decided at Commit once every file with
	// Errors (which keeps its stored entities) has been added.
	pending, deferred []candidate
	oldDefs           []string
	seenDefs          map[string]bool
	res               catalog.SyncResult
}

// BeginSync starts a sync of src written file by file; see catalog.SyncWriter.
// On Postgres it holds src's lock until Commit or Rollback, and the write
// lock from its first write on (synclock.go); on SQLite, the write lock.
func (s *Store) BeginSync(ctx context.Context, src catalog.Source) (catalog.SyncWriter, error) {
	if src.Name == "" {
		return nil, errors.New("begin sync: source has no name")
	}
	op := "begin sync " + src.Name
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, s.wrap(op, err)
	}
	now := time.Now().UTC()
	st := &stream{
		s: s, conn: conn, tx: tx, src: src, now: now, nowV: dbTimeValue(now),
		w:        &writer{s: s, conn: conn, tx: tx, kinds: map[string]int{}},
		existing: map[string]*storedRow{},
		byPath:   map[string][]string{},
		claimed:  map[string]string{},
		listed:   map[string]bool{},
		seenDefs: map[string]bool{},
	}
	if err := st.begin(ctx); err != nil {
		st.Rollback()
		return nil, s.wrap(op, err)
	}
	return st, nil
}

func (st *stream) begin(ctx context.Context) error {
	if err := st.w.lockSource(ctx, st.src.Name); err != nil {
		return err
	}
	// Paths repeat for every entity of a file: share one string each.
	paths := map[string]string{}
	return selectRows(ctx, st.tx, st.tx.Rebind(storedRowQuery), []any{st.src.Name}, func(rows *sqlx.Rows) error {
		r := &storedRow{}
		if err := rows.StructScan(r); err != nil {
			return err
		}
		if p, ok := paths[r.Path]; ok {
			r.Path = p
		} else {
			paths[r.Path] = r.Path
		}
		st.existing[r.Ref] = r
		st.byPath[r.Path] = append(st.byPath[r.Path], r.Ref)
		return nil
	})
}

// Rollback abandons the sync.
func (st *stream) Rollback() {
	if st.done {
		return
	}
	st.done = true
	st.w.close()
	// Rollback after an error says nothing the caller needs.
	_ = st.tx.Rollback()
	st.conn.Close()
}

func (st *stream) fail(path string, line int, format string, args ...any) {
	st.res.Errors = append(st.res.Errors, catalog.ProcessingError{Source: st.src.Name, Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// Add takes one file; see catalog.SyncWriter.
func (st *stream) Add(ctx context.Context, f catalog.FileResult) error {
	if st.done {
		return errors.New("sync writer: add after commit or rollback")
	}
	st.listed[f.Path] = true
	if f.Removed {
		return nil
	}
	for _, pe := range slices.Concat(f.Errors, f.Warnings) {
		pe.Source = st.src.Name
		if pe.Path == "" {
			pe.Path = f.Path
		}
		st.res.Errors = append(st.res.Errors, pe)
	}
	if len(f.Errors) > 0 {
		for _, ref := range st.byPath[f.Path] {
			if _, ok := st.claimed[ref]; !ok {
				st.claimed[ref] = f.Path
			}
		}
		return nil
	}
	for _, e := range f.Entities {
		if e.Metadata.Etag == "" || e.Metadata.UID == "" {
			c := *e
			if err := c.Stamp(); err != nil {
				st.fail(f.Path, e.Origin.Line, "%s: %v", e.Ref(), err)
				continue
			}
			e = &c
		}
		c := newCandidate(e, f)
		if holder, ok := st.claimed[c.ref]; ok {
			st.fail(f.Path, c.line, "entity %s is already defined in %s", c.ref, holder)
			continue
		}
		if old, ok := st.existing[c.ref]; ok && old.Path != c.path {
			st.deferred = append(st.deferred, c)
			continue
		}
		st.claimed[c.ref] = f.Path
		st.pending = append(st.pending, c)
	}
	if len(st.pending) >= writeChunk {
		if err := st.flush(ctx); err != nil {
			return st.s.wrap("sync "+st.src.Name, err)
		}
	}
	return nil
}

// flush decides and writes the pending candidates.
func (st *stream) flush(ctx context.Context) error {
	cands := st.pending
	st.pending = st.pending[:0]
	if len(cands) == 0 {
		return nil
	}
	var unknown []string
	for _, c := range cands {
		if _, ok := st.existing[c.ref]; !ok {
			unknown = append(unknown, c.ref)
		}
	}
	// Refs new to the source may belong to another one.
	if len(unknown) > 0 {
		if err := st.w.lockWrites(ctx); err != nil {
			return err
		}
		others, err := st.w.othersHold(ctx, st.src.Name)
		if err != nil {
			return err
		}
		if !others {
			unknown = nil
		}
	}
	type holder struct {
		Ref    string `db:"ref"`
		Source string `db:"source"`
		Path   string `db:"path"`
	}
	held := map[string]holder{}
	err := st.s.selectWhereIn(ctx, st.tx, "SELECT ref, source, path FROM entities WHERE ref", nil, unknown, func(rows *sqlx.Rows) error {
		var h holder
		if err := rows.StructScan(&h); err != nil {
			return err
		}
		held[h.Ref] = h
		return nil
	})
	if err != nil {
		return err
	}
	var (
		writes      []candidate
		history     [][]any
		historyVals []any
		nowA        any
		commits     lastBox
		changed     []string
	)
	for _, c := range cands {
		old, ok := st.existing[c.ref]
		if !ok {
			if h, taken := held[c.ref]; taken {
				st.fail(c.path, c.line, "entity %s is already defined by source %s in %s", c.ref, h.Source, h.Path)
				continue
			}
		} else if old.Etag == c.e.Metadata.Etag && old.Path == c.path && old.Line == c.line {
			st.res.Unchanged++
			continue
		}
		c.owner = c.ownerRef()
		c.update = ok
		oldOwner := ""
		if ok {
			st.res.Updated++
			changed = append(changed, c.ref)
			oldOwner = old.Owner
			if old.DefHash != nil {
				st.oldDefs = append(st.oldDefs, *old.DefHash)
			}
		} else {
			st.res.Added++
			st.w.kinds[canonicalKind(c.e.Kind)]++
		}
		if oldOwner != c.owner {
			commit := c.e.Origin.Commit
			if commit == "" {
				commit = st.src.Commit
			}
			if historyVals == nil {
				// Every entity of a first sync has an owner to record:
				// one array for the rows' values, the time boxed once.
				historyVals, nowA = make([]any, 0, len(historyCols)*len(cands)), any(st.nowV)
			}
			historyVals = append(historyVals, c.ref, oldOwner, c.owner, commits.of(commit), nowA)
			history = append(history, historyVals[len(historyVals)-len(historyCols):len(historyVals):len(historyVals)])
		}
		writes = append(writes, c)
	}
	if len(writes) == 0 {
		return nil
	}
	if err := st.w.lockWrites(ctx); err != nil {
		return err
	}
	if err := st.w.logTargetsOf(ctx, changed); err != nil {
		return err
	}
	if err := st.s.deleteRelationsOf(ctx, st.tx, changed); err != nil {
		return fmt.Errorf("delete relations: %w", err)
	}
	if err := st.s.writeEntities(ctx, st.w, st.src.Name, st.src.Commit, st.nowV, st.seenDefs, writes); err != nil {
		return err
	}
	if err := st.w.insert(ctx, "ownership_history", historyCols, history); err != nil {
		return fmt.Errorf("insert ownership history: %w", err)
	}
	return nil
}

var historyCols = []string{"entity_ref", "old_owner", "new_owner", "commit_sha", "recorded_at"}

// Commit finishes the sync; see catalog.SyncWriter.
func (st *stream) Commit(ctx context.Context, src catalog.Source, full bool) (catalog.SyncResult, error) {
	op := "apply sync " + st.src.Name
	if st.done {
		return catalog.SyncResult{}, errors.New(op + ": commit after commit or rollback")
	}
	defer st.Rollback()
	if src.Name != st.src.Name {
		return catalog.SyncResult{}, fmt.Errorf("%s: commit names source %q", op, src.Name)
	}
	if src.Commit == "" {
		src.Commit = st.src.Commit
	}
	st.src = src
	if err := st.commit(ctx, full); err != nil {
		return catalog.SyncResult{}, st.s.wrap(op, err)
	}
	st.w.close()
	if err := st.tx.Commit(); err != nil {
		return catalog.SyncResult{}, st.s.wrap(op, err)
	}
	if st.w.bumped {
		st.s.countsChanged(st.w.gen, st.w.kinds)
	}
	// The sync's connection goes back to the pool first: ANALYZE takes
	// one, and with a pool of one it would wait for this one forever.
	st.Rollback()
	st.s.analyzeIfBig(ctx, st.res)
	return st.res, nil
}

func (st *stream) commit(ctx context.Context, full bool) error {
	tx, src := st.tx, st.src.Name
	if err := st.w.lockWrites(ctx); err != nil {
		return err
	}
	// Entities that moved to another file: their stored file, when broken,
	// keeps them; without a full sync, so does a stored file not added.
	for _, c := range st.deferred {
		if holder, ok := st.claimed[c.ref]; ok {
			st.fail(c.path, c.line, "entity %s is already defined in %s", c.ref, holder)
			continue
		}
		if old := st.existing[c.ref]; !full && !st.listed[old.Path] {
			st.fail(c.path, c.line, "entity %s is already defined by source %s in %s", c.ref, src, old.Path)
			continue
		}
		st.claimed[c.ref] = c.path
		st.pending = append(st.pending, c)
		if len(st.pending) >= writeChunk {
			if err := st.flush(ctx); err != nil {
				return err
			}
		}
	}
	st.deferred = nil
	if err := st.flush(ctx); err != nil {
		return err
	}

	var (
		removed []string
		history [][]any
	)
	for ref, old := range st.existing {
		if _, ok := st.claimed[ref]; ok || !full && !st.listed[old.Path] {
			continue
		}
		removed = append(removed, ref)
		st.w.kinds[canonicalKind(old.Kind)]--
		if old.Owner != "" {
			history = append(history, []any{ref, old.Owner, "", st.src.Commit, st.nowV})
		}
		if old.DefHash != nil {
			st.oldDefs = append(st.oldDefs, *old.DefHash)
		}
	}
	sort.Strings(removed)
	st.res.Removed = len(removed)
	if err := st.w.logTargetsOf(ctx, removed); err != nil {
		return err
	}
	if err := st.s.deleteRelationsOf(ctx, tx, removed); err != nil {
		return fmt.Errorf("delete relations: %w", err)
	}
	if err := st.s.deleteWhereIn(ctx, tx, "entities", "ref", removed); err != nil {
		return fmt.Errorf("delete entities: %w", err)
	}
	st.w.logRefs(removed)
	if err := st.s.execWhereIn(ctx, tx, "DELETE FROM definitions WHERE NOT EXISTS (SELECT 1 FROM entities WHERE definition_hash = definitions.hash) AND hash",
		nil, st.oldDefs); err != nil {
		return fmt.Errorf("delete definitions: %w", err)
	}
	if err := st.w.insert(ctx, "ownership_history", historyCols, history); err != nil {
		return fmt.Errorf("insert ownership history: %w", err)
	}

	// This sync's errors replace the source's (full) or the added files'.
	var err error
	if full {
		_, err = tx.ExecContext(ctx, tx.Rebind("DELETE FROM processing_errors WHERE source = ?"), src)
	} else {
		listed := make([]string, 0, len(st.listed))
		for p := range st.listed {
			listed = append(listed, p)
		}
		sort.Strings(listed)
		err = st.s.execWhereIn(ctx, tx, "DELETE FROM processing_errors WHERE source = ? AND path", []any{src}, listed)
	}
	if err != nil {
		return fmt.Errorf("delete processing errors: %w", err)
	}
	return st.s.finishSync(ctx, st.w, st.src, &st.res, st.now)
}
