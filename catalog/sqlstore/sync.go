// A sync's writes in one file (over 500 lines): ApplySync's rules (conflicts, kept
// files, removals), the shared end of every sync (errors, generation, change log,
// source state) and the entity writer both sync paths use.

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
	"github.com/portalbot/portalbot/migrations"
)

// Columns written for entities: every insert sets all of them, an update all
// but first_seen (the first column, ref, is the key).
var (
	entityInsertCols = []string{"ref", "kind", "namespace", "name", "owner", "title", "description", "tags",
		"spec_type", "lifecycle", "doc", "source", "path", "line", "commit_sha", "etag", "uid", "definition_hash",
		"first_seen", "last_seen"}
	entityUpdateCols = append(entityInsertCols[:18:18], "last_seen")
	relationCols     = []string{"source_ref", "type", "target_ref", "inverse_type"}
)

// storedRow is what ApplySync needs to know about an entity already stored.
type storedRow struct {
	Ref     string  `db:"ref"`
	Kind    string  `db:"kind"`
	Path    string  `db:"path"`
	Line    int     `db:"line"`
	Etag    string  `db:"etag"`
	Owner   string  `db:"owner"`
	DefHash *string `db:"definition_hash"`
}

const storedRowQuery = "SELECT ref, kind, path, line, etag, owner, definition_hash FROM entities WHERE source = ?"

// writeChunk is how many entities ApplySync encodes and writes at a time,
// which bounds the memory a sync needs beyond the batch itself.
const writeChunk = 5000

// ApplySync writes one sync of one source in a single transaction; on any
// error nothing changes.
//
// A file with Errors keeps its last good entities and its errors are
// recorded; a file's Warnings are recorded too, without blocking it. Entities whose etag, path and line are unchanged are not
// rewritten, so their last_seen is the time they last changed; the source's
// synced_at says when all of them were last confirmed. A ref held by another
// source (or, in a partial batch, by a file of this source not in the batch)
// or emitted twice is kept by its first holder, and the newcomer gets a
// processing error, as Backstage does. Every change of owner, including
// additions and removals, is written to the ownership history.
func (s *Store) ApplySync(ctx context.Context, b catalog.SyncBatch) (catalog.SyncResult, error) {
	src := b.Source.Name
	op := "apply sync " + src
	if src == "" {
		return catalog.SyncResult{}, errors.New("apply sync: source has no name")
	}
	if b.Full {
		sw, err := s.BeginSync(ctx, b.Source)
		if err != nil {
			return catalog.SyncResult{}, err
		}
		defer sw.Rollback()
		for _, f := range b.Files {
			if err := sw.Add(ctx, f); err != nil {
				return catalog.SyncResult{}, err
			}
		}
		return sw.Commit(ctx, b.Source, true)
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	// Rollback after Commit is a no-op; its error says nothing new.
	defer func() { _ = tx.Rollback() }()
	w := &writer{s: s, conn: conn, tx: tx, kinds: map[string]int{}}
	defer w.close()
	if err := w.lockSource(ctx, src); err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	res, err := s.applySync(ctx, w, b, time.Now().UTC())
	if err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	w.close()
	if err := tx.Commit(); err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	if w.bumped {
		s.countsChanged(w.gen, w.kinds)
	}
	// As in stream.Commit: the connection goes back before ANALYZE.
	conn.Close()
	s.analyzeIfBig(ctx, res)
	return res, nil
}

// candidate is an entity of a good file that this sync may write.
type candidate struct {
	e                *catalog.Entity
	doc              []byte // e's stamped Document when the file gave it, or nil
	prep             any    // what Prepare made of e, or nil
	ref, path, owner string
	line             int
	update           bool
}

// newCandidate makes the candidate for e, of file f. Its ref is
// the one Prepare made, when it made one: each is a string built.
func newCandidate(e *catalog.Entity, f catalog.FileResult) candidate {
	c := candidate{e: e, doc: f.Documents[e], prep: f.Prepared[e], path: f.Path, line: e.Origin.Line}
	if p, ok := c.prep.(*prepared); ok {
		c.ref = p.row.ref
	} else {
		c.ref = e.Ref().String()
	}
	return c
}

// ownerRef returns the canonical ref of c's owner, "" when it has none:
// Prepare's, when it made one, which saves parsing it again.
func (c *candidate) ownerRef() string {
	if p, ok := c.prep.(*prepared); ok {
		return p.row.owner
	}
	if o, has := c.e.Owner(); has {
		return o.String()
	}
	return ""
}

func (s *Store) applySync(ctx context.Context, w *writer, b catalog.SyncBatch, now time.Time) (catalog.SyncResult, error) {
	var res catalog.SyncResult
	tx := w.tx
	src := b.Source.Name
	nowV := dbTimeValue(now)

	listed := make([]string, 0, len(b.Files))
	for _, f := range b.Files {
		listed = append(listed, f.Path)
	}

	// What the batch speaks for: the whole source, or the listed files.
	existing := map[string]storedRow{}
	scanStored := func(rows *sqlx.Rows) error {
		var r storedRow
		if err := rows.StructScan(&r); err != nil {
			return err
		}
		existing[r.Ref] = r
		return nil
	}
	if b.Full {
		if err := selectRows(ctx, tx, tx.Rebind(storedRowQuery), []any{src}, scanStored); err != nil {
			return res, err
		}
	} else if err := s.selectWhereIn(ctx, tx, storedRowQuery+" AND path", []any{src}, listed, scanStored); err != nil {
		return res, err
	}
	byPath := map[string][]string{}
	for ref, r := range existing {
		byPath[r.Path] = append(byPath[r.Path], ref)
	}

	// claimed maps each ref this sync keeps or writes to its file.
	claimed := make(map[string]string, len(existing))
	fail := func(path string, line int, format string, args ...any) {
		res.Errors = append(res.Errors, catalog.ProcessingError{Source: src, Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	for _, f := range b.Files {
		if f.Removed {
			continue
		}
		for _, pe := range slices.Concat(f.Errors, f.Warnings) {
			pe.Source = src
			if pe.Path == "" {
				pe.Path = f.Path
			}
			res.Errors = append(res.Errors, pe)
		}
		if len(f.Errors) == 0 {
			continue
		}
		for _, ref := range byPath[f.Path] {
			claimed[ref] = f.Path
		}
	}
	var (
		cands, deferred []candidate
		unknown         []string
	)
	take := func(c candidate) {
		if holder, ok := claimed[c.ref]; ok {
			fail(c.path, c.line, "entity %s is already defined in %s", c.ref, holder)
			return
		}
		claimed[c.ref] = c.path
		if _, ok := existing[c.ref]; !ok {
			unknown = append(unknown, c.ref)
		}
		cands = append(cands, c)
	}
	for _, f := range b.Files {
		if f.Removed || len(f.Errors) > 0 {
			continue
		}
		for _, e := range f.Entities {
			if e.Metadata.Etag == "" || e.Metadata.UID == "" {
				c := *e
				if err := c.Stamp(); err != nil {
					fail(f.Path, e.Origin.Line, "%s: %v", e.Ref(), err)
					continue
				}
				e = &c
			}
			c := newCandidate(e, f)
			// An entity stored under another file of the batch is that
			// file's while it still defines it, whatever the batch's order
			// (as BeginSync's writer decides it): decided after the others.
			if old, ok := existing[c.ref]; ok && old.Path != c.path {
				deferred = append(deferred, c)
				continue
			}
			take(c)
		}
	}
	for _, c := range deferred {
		take(c)
	}

	// Refs new to this scope may belong to another source (or file). The
	// batch is parsed whole already: from here on is the write phase.
	if err := w.lockWrites(ctx); err != nil {
		return res, err
	}
	type holder struct {
		Ref    string `db:"ref"`
		Source string `db:"source"`
		Path   string `db:"path"`
	}
	held := map[string]holder{}
	err := s.selectWhereIn(ctx, tx, "SELECT ref, source, path FROM entities WHERE ref", nil, unknown, func(rows *sqlx.Rows) error {
		var h holder
		if err := rows.StructScan(&h); err != nil {
			return err
		}
		held[h.Ref] = h
		return nil
	})
	if err != nil {
		return res, err
	}

	// Decide what changes, from refs and etags alone.
	var (
		writes           []candidate
		history          [][]any
		changed, removed []string
		oldDefs          []string
	)
	owned := func(ref, oldOwner, newOwner, commit string) {
		if oldOwner != newOwner {
			history = append(history, []any{ref, oldOwner, newOwner, commit, nowV})
		}
	}
	commitOf := func(e *catalog.Entity) string {
		if e.Origin.Commit != "" {
			return e.Origin.Commit
		}
		return b.Source.Commit
	}
	for _, c := range cands {
		old, ok := existing[c.ref]
		if !ok {
			if h, taken := held[c.ref]; taken {
				fail(c.path, c.line, "entity %s is already defined by source %s in %s", c.ref, h.Source, h.Path)
				continue
			}
		} else if old.Etag == c.e.Metadata.Etag && old.Path == c.path && old.Line == c.line {
			res.Unchanged++
			continue
		}
		c.owner = c.ownerRef()
		c.update = ok
		if ok {
			res.Updated++
			changed = append(changed, c.ref)
			owned(c.ref, old.Owner, c.owner, commitOf(c.e))
			if old.DefHash != nil {
				oldDefs = append(oldDefs, *old.DefHash)
			}
		} else {
			res.Added++
			w.kinds[canonicalKind(c.e.Kind)]++
			owned(c.ref, "", c.owner, commitOf(c.e))
		}
		writes = append(writes, c)
	}
	for ref, old := range existing {
		if _, ok := claimed[ref]; ok {
			continue
		}
		removed = append(removed, ref)
		w.kinds[canonicalKind(old.Kind)]--
		owned(ref, old.Owner, "", b.Source.Commit)
		if old.DefHash != nil {
			oldDefs = append(oldDefs, *old.DefHash)
		}
	}
	sort.Strings(removed)
	res.Removed = len(removed)

	rewritten := append(changed, removed...)
	if err := w.logTargetsOf(ctx, rewritten); err != nil {
		return res, err
	}
	if err := s.deleteRelationsOf(ctx, tx, rewritten); err != nil {
		return res, fmt.Errorf("delete relations: %w", err)
	}
	if err := s.deleteWhereIn(ctx, tx, "entities", "ref", removed); err != nil {
		return res, fmt.Errorf("delete entities: %w", err)
	}
	w.logRefs(removed)
	if err := s.writeEntities(ctx, w, src, b.Source.Commit, nowV, map[string]bool{}, writes); err != nil {
		return res, err
	}
	if err := s.execWhereIn(ctx, tx, "DELETE FROM definitions WHERE NOT EXISTS (SELECT 1 FROM entities WHERE definition_hash = definitions.hash) AND hash",
		nil, oldDefs); err != nil {
		return res, fmt.Errorf("delete definitions: %w", err)
	}
	if err := w.insert(ctx, "ownership_history", historyCols, history); err != nil {
		return res, fmt.Errorf("insert ownership history: %w", err)
	}

	// This sync's errors replace the source's (full) or the listed files'.
	if b.Full {
		_, err = tx.ExecContext(ctx, tx.Rebind("DELETE FROM processing_errors WHERE source = ?"), src)
	} else {
		err = s.execWhereIn(ctx, tx, "DELETE FROM processing_errors WHERE source = ? AND path", []any{src}, listed)
	}
	if err != nil {
		return res, fmt.Errorf("delete processing errors: %w", err)
	}
	return res, s.finishSync(ctx, w, b.Source, &res, now)
}

// finishSync records a sync's processing errors (those it replaces are
// already deleted), bumps the generation when anything changed, ends its
// part of the change log and records the source's state.
func (s *Store) finishSync(ctx context.Context, w *writer, st catalog.Source, res *catalog.SyncResult, now time.Time) error {
	tx, nowV := w.tx, dbTimeValue(now)
	perrs := make([][]any, len(res.Errors))
	for i, pe := range res.Errors {
		perrs[i] = []any{pe.Source, pe.Path, int64(pe.Line), pe.Message, nowV}
	}
	if err := w.insert(ctx, "processing_errors", []string{"source", "path", "line", "message", "recorded_at"}, perrs); err != nil {
		return fmt.Errorf("insert processing errors: %w", err)
	}
	if res.Added+res.Updated+res.Removed > 0 {
		// The sync write lock (Postgres, synclock.go) or SQLite's write lock is held, so no
		// other sync moves the generation between these two statements.
		if err := tx.GetContext(ctx, &w.gen, "SELECT value FROM meta WHERE key = 'generation'"); err != nil {
			return fmt.Errorf("read generation: %w", err)
		}
		w.bumped = true
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = value + 1 WHERE key = 'generation'"); err != nil {
			return fmt.Errorf("bump generation: %w", err)
		}
		if err := w.finishChangeLog(ctx, w.gen+1); err != nil {
			return err
		}
	}
	if st.Status == "" {
		st.Status = "ok"
	}
	if st.SyncedAt.IsZero() {
		st.SyncedAt = now
	}
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sources (name, repo, branch, commit_sha, status, message, synced_at, codeowners)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET repo = excluded.repo, branch = excluded.branch, commit_sha = excluded.commit_sha,
			status = excluded.status, message = excluded.message, synced_at = excluded.synced_at, codeowners = excluded.codeowners`),
		st.Name, st.Repo, st.Branch, st.Commit, st.Status, st.Message, dbTimeValue(st.SyncedAt), st.CodeOwners)
	if err != nil {
		return fmt.Errorf("upsert source: %w", err)
	}
	return nil
}

// writeEntities encodes and writes the new and changed entities, their
// relations and definitions, writeChunk entities at a time, and logs them
// and the targets of their new relations in the change log.
func (s *Store) writeEntities(ctx context.Context, w *writer, src, commit, nowV string, seenDefs map[string]bool, writes []candidate) error {
	// Values that repeat from row to row are boxed once (see lastBox).
	nowA := any(nowV)
	var sources, paths, commits, namespaces, specTypes, lifecycles lastBox
	var backing []any
	for len(writes) > 0 {
		chunk := writes[:min(writeChunk, len(writes))]
		writes = writes[len(chunk):]
		var (
			inserts = make([][]any, 0, len(chunk))
			updates [][]any
			rels    = make([][]any, 0, 4*len(chunk))
			defs    [][]any
		)
		for _, c := range chunk {
			var (
				row     entityRow
				forward [][]any
			)
			if p, ok := c.prep.(*prepared); ok {
				row, forward = p.row, p.forward
			} else {
				var err error
				if row, err = encodeEntity(c.e, src, c.doc); err != nil {
					return fmt.Errorf("encode %s: %w", c.ref, err)
				}
				forward = forwardRelations(row.relations, row.ref)
			}
			row.source = src
			if row.commit == "" {
				row.commit = commit
			}
			var defHash any
			if row.defHash != "" {
				defHash = row.defHash
				if !seenDefs[row.defHash] {
					seenDefs[row.defHash] = true
					defs = append(defs, []any{defHash, row.definition})
				}
			}
			if len(backing)+len(entityInsertCols) > cap(backing) {
				// One array for the values of many rows.
				backing = make([]any, 0, len(entityInsertCols)*len(chunk))
			}
			vals := backing[len(backing) : len(backing) : len(backing)+len(entityInsertCols)]
			backing = backing[:len(backing)+len(entityInsertCols)]
			vals = append(vals, row.ref, constValue(row.kind), namespaces.of(row.namespace), row.name, row.owner, row.title, row.description, row.tags,
				specTypes.of(row.specType), lifecycles.of(row.lifecycle), row.doc, sources.of(row.source), paths.of(c.path), int64(row.line), commits.of(row.commit), row.etag, row.uid, defHash)
			if c.update {
				updates = append(updates, append(vals, nowA))
			} else {
				inserts = append(inserts, append(vals, nowA, nowA))
			}
			rels = append(rels, forward...)
			if !w.log.full {
				w.logRef(row.ref)
				for _, f := range forward {
					// Stored with an inverse, the relation is also the
					// target's (forwardRelations' rows: source, type,
					// target, inverse type).
					if f[3] != "" {
						w.logRef(f[2].(string))
					}
				}
			}
		}
		if err := w.insertIgnore(ctx, "definitions", []string{"hash", "text"}, defs); err != nil {
			return fmt.Errorf("insert definitions: %w", err)
		}
		if err := w.insert(ctx, "entities", entityInsertCols, inserts); err != nil {
			return fmt.Errorf("insert entities: %w", err)
		}
		if err := w.update(ctx, "entities", entityUpdateCols, updates); err != nil {
			return fmt.Errorf("update entities: %w", err)
		}
		if err := w.insert(ctx, "relations", relationCols, rels); err != nil {
			return fmt.Errorf("insert relations: %w", err)
		}
	}
	if err := w.flush(ctx); err != nil {
		return fmt.Errorf("apply staged rows: %w", err)
	}
	return nil
}

// lastBox puts strings in an any, reusing the last one's box when the
// string repeats: boxing allocates, for every value of every row, and a
// sync's rows repeat their source, path (a file's entities), commit,
// namespace, spec type and lifecycle.
type lastBox struct {
	s string
	v any // s boxed; nil before the first
}

func (b *lastBox) of(s string) any {
	if b.v == nil || s != b.s {
		b.s, b.v = s, s
	}
	return b.v
}

// RecordSourceError marks src as failed with msg (an unreachable repo, ...)
// without touching its entities or its last synced commit and time.
func (s *Store) RecordSourceError(ctx context.Context, src catalog.Source, msg string) error {
	if src.Name == "" {
		return errors.New("record source error: source has no name")
	}
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO sources (name, repo, branch, status, message)
		VALUES (?, ?, ?, 'error', ?)
		ON CONFLICT (name) DO UPDATE SET repo = excluded.repo, branch = excluded.branch, status = 'error', message = excluded.message`),
		src.Name, src.Repo, src.Branch, msg)
	return s.wrap("record source error "+src.Name, err)
}

// analyzeAfter is how many changed entities make a sync refresh Postgres'
// planner statistics at once. A first sync of a large catalog otherwise
// leaves the planner with empty-table statistics until autovacuum gets to
// it, and point lookups (every chat command) fall back to sequential scans
// meanwhile: measured here, 100 ms instead of 0.7 ms per owner command
// right after syncing 100,000 entities.
const analyzeAfter = 10000

// analyzeIfBig runs ANALYZE on the catalog tables after a sync that
// changed at least analyzeAfter entities. It runs after the commit, so a
// failure only costs speed: it is logged by nobody and returned to no one.
func (s *Store) analyzeIfBig(ctx context.Context, res catalog.SyncResult) {
	after := analyzeAfter
	if s.analyzeAfter > 0 {
		after = s.analyzeAfter
	}
	if s.dialect != migrations.Postgres || res.Added+res.Updated+res.Removed < after {
		return
	}
	// What the planner lacks after a large first sync is the tables' size
	// and a rough picture of their columns, enough to choose the indexes
	// for point lookups: a sample of 3,000 rows (statistics target 10)
	// gives that at a tenth of the cost of the default 30,000 (250,000
	// entities: 0.3 s instead of 3-5 s, issue 19). Autovacuum's own
	// ANALYZE refines them later, in the background.
	// Statistics are an optimisation; the sync itself has succeeded.
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return
	}
	if _, err := tx.ExecContext(ctx, "SET LOCAL default_statistics_target = 10"); err == nil {
		if _, err := tx.ExecContext(ctx, "ANALYZE entities, relations"); err == nil {
			_ = tx.Commit()
			return
		}
	}
	_ = tx.Rollback()
}
