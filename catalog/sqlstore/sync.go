package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/catalog"
)

// syncLockSQL takes the advisory lock every ApplySync holds on Postgres
// until it commits, so that syncs from several processes never interleave
// and the first-source-wins check for a ref sees committed state. It is
// keyed by schema, like the migration lock. On SQLite, every transaction
// takes the write lock at BEGIN (see sqliteParams).
const syncLockSQL = "SELECT pg_advisory_xact_lock(hashtext('portalbot.sync'), hashtext(current_schema()))"

// Columns written for entities: every insert sets all of them, an update all
// but first_seen (the first column, ref, is the key).
var (
	entityInsertCols = []string{"ref", "kind", "namespace", "name", "owner", "title", "description", "tags",
		"spec_type", "lifecycle", "doc", "source", "path", "line", "commit_sha", "etag", "uid", "definition_hash",
		"first_seen", "last_seen"}
	entityUpdateCols = append(entityInsertCols[:18:18], "last_seen")
	relationCols     = []string{"source_ref", "type", "target_ref", "origin_ref"}
)

// storedRow is what ApplySync needs to know about an entity already stored.
type storedRow struct {
	Ref     string  `db:"ref"`
	Path    string  `db:"path"`
	Line    int     `db:"line"`
	Etag    string  `db:"etag"`
	Owner   string  `db:"owner"`
	DefHash *string `db:"definition_hash"`
}

const storedRowQuery = "SELECT ref, path, line, etag, owner, definition_hash FROM entities WHERE source = ?"

// ApplySync writes one sync of one source in a single transaction; on any
// error nothing changes.
//
// A file with Errors keeps its last good entities and its errors are
// recorded. Entities whose etag, path and line are unchanged are not
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
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	// Rollback after Commit is a no-op; its error says nothing new.
	defer func() { _ = tx.Rollback() }()
	if s.pg() {
		if _, err := tx.ExecContext(ctx, syncLockSQL); err != nil {
			return catalog.SyncResult{}, s.wrap(op, err)
		}
	}
	res, err := s.applySync(ctx, tx, b, time.Now().UTC())
	if err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return catalog.SyncResult{}, s.wrap(op, err)
	}
	return res, nil
}

func (s *Store) applySync(ctx context.Context, tx *sqlx.Tx, b catalog.SyncBatch, now time.Time) (catalog.SyncResult, error) {
	var res catalog.SyncResult
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
	claimed := map[string]string{}
	fail := func(path string, line int, format string, args ...any) {
		res.Errors = append(res.Errors, catalog.ProcessingError{Source: src, Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	for _, f := range b.Files {
		if f.Removed || len(f.Errors) == 0 {
			continue
		}
		for _, pe := range f.Errors {
			pe.Source = src
			if pe.Path == "" {
				pe.Path = f.Path
			}
			res.Errors = append(res.Errors, pe)
		}
		for _, ref := range byPath[f.Path] {
			claimed[ref] = f.Path
		}
	}
	var (
		cands   []entityRow
		unknown []string
	)
	for _, f := range b.Files {
		if f.Removed || len(f.Errors) > 0 {
			continue
		}
		for _, e := range f.Entities {
			row, err := encodeEntity(e, src)
			if err != nil {
				fail(f.Path, e.Origin.Line, "%s: %v", e.Ref(), err)
				continue
			}
			row.path = f.Path
			if row.commit == "" {
				row.commit = b.Source.Commit
			}
			if holder, ok := claimed[row.ref]; ok {
				fail(f.Path, row.line, "entity %s is already defined in %s", row.ref, holder)
				continue
			}
			claimed[row.ref] = f.Path
			cands = append(cands, row)
			if _, ok := existing[row.ref]; !ok {
				unknown = append(unknown, row.ref)
			}
		}
	}

	// Refs new to this scope may belong to another source (or file).
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

	var (
		inserts, updates [][]any
		rels, history    [][]any
		defs             [][]any
		changed, removed []string
		oldDefs          []string
	)
	newDefs := map[string]bool{}
	owned := func(ref, oldOwner, newOwner, commit string) {
		if oldOwner != newOwner {
			history = append(history, []any{ref, oldOwner, newOwner, commit, nowV})
		}
	}
	for _, row := range cands {
		old, ok := existing[row.ref]
		if !ok {
			if h, taken := held[row.ref]; taken {
				fail(row.path, row.line, "entity %s is already defined by source %s in %s", row.ref, h.Source, h.Path)
				continue
			}
		} else if old.Etag == row.etag && old.Path == row.path && old.Line == row.line {
			res.Unchanged++
			continue
		}
		var defHash any
		if row.defHash != "" {
			defHash = row.defHash
			if !newDefs[row.defHash] {
				newDefs[row.defHash] = true
				defs = append(defs, []any{row.defHash, row.definition})
			}
		}
		vals := []any{row.ref, row.kind, row.namespace, row.name, row.owner, row.title, row.description, row.tags,
			row.specType, row.lifecycle, row.doc, row.source, row.path, row.line, row.commit, row.etag, row.uid, defHash}
		if ok {
			updates = append(updates, append(vals, nowV))
			changed = append(changed, row.ref)
			owned(row.ref, old.Owner, row.owner, row.commit)
			if old.DefHash != nil && *old.DefHash != row.defHash {
				oldDefs = append(oldDefs, *old.DefHash)
			}
		} else {
			inserts = append(inserts, append(vals, nowV, nowV))
			owned(row.ref, "", row.owner, row.commit)
		}
		for _, rel := range row.relations {
			from, to := relationRefs(rel, row.ref)
			rels = append(rels, []any{from, rel.Type, to, row.ref})
		}
	}
	for ref, old := range existing {
		if _, ok := claimed[ref]; ok {
			continue
		}
		removed = append(removed, ref)
		owned(ref, old.Owner, "", b.Source.Commit)
		if old.DefHash != nil {
			oldDefs = append(oldDefs, *old.DefHash)
		}
	}
	sort.Strings(removed)
	res.Added, res.Updated, res.Removed = len(inserts), len(updates), len(removed)

	if err := s.deleteWhereIn(ctx, tx, "relations", "origin_ref", append(changed, removed...)); err != nil {
		return res, fmt.Errorf("delete relations: %w", err)
	}
	if err := s.deleteWhereIn(ctx, tx, "entities", "ref", removed); err != nil {
		return res, fmt.Errorf("delete entities: %w", err)
	}
	if err := s.insertIgnore(ctx, tx, "definitions", []string{"hash", "text"}, defs); err != nil {
		return res, fmt.Errorf("insert definitions: %w", err)
	}
	if err := s.insertRows(ctx, tx, "entities", entityInsertCols, inserts); err != nil {
		return res, fmt.Errorf("insert entities: %w", err)
	}
	if err := s.updateRows(ctx, tx, "entities", entityUpdateCols, updates); err != nil {
		return res, fmt.Errorf("update entities: %w", err)
	}
	if err := s.insertRows(ctx, tx, "relations", relationCols, rels); err != nil {
		return res, fmt.Errorf("insert relations: %w", err)
	}
	if err := s.execWhereIn(ctx, tx, "DELETE FROM definitions WHERE NOT EXISTS (SELECT 1 FROM entities WHERE definition_hash = definitions.hash) AND hash",
		nil, oldDefs); err != nil {
		return res, fmt.Errorf("delete definitions: %w", err)
	}
	if err := s.insertRows(ctx, tx, "ownership_history", []string{"entity_ref", "old_owner", "new_owner", "commit_sha", "recorded_at"}, history); err != nil {
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
	perrs := make([][]any, len(res.Errors))
	for i, pe := range res.Errors {
		perrs[i] = []any{pe.Source, pe.Path, pe.Line, pe.Message, nowV}
	}
	if err := s.insertRows(ctx, tx, "processing_errors", []string{"source", "path", "line", "message", "recorded_at"}, perrs); err != nil {
		return res, fmt.Errorf("insert processing errors: %w", err)
	}

	if res.Added+res.Updated+res.Removed > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = value + 1 WHERE key = 'generation'"); err != nil {
			return res, fmt.Errorf("bump generation: %w", err)
		}
	}
	st := b.Source
	if st.Status == "" {
		st.Status = "ok"
	}
	if st.SyncedAt.IsZero() {
		st.SyncedAt = now
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sources (name, repo, branch, commit_sha, status, message, synced_at, codeowners)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET repo = excluded.repo, branch = excluded.branch, commit_sha = excluded.commit_sha,
			status = excluded.status, message = excluded.message, synced_at = excluded.synced_at, codeowners = excluded.codeowners`),
		st.Name, st.Repo, st.Branch, st.Commit, st.Status, st.Message, dbTimeValue(st.SyncedAt), st.CodeOwners)
	if err != nil {
		return res, fmt.Errorf("upsert source: %w", err)
	}
	return res, nil
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
