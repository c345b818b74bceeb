// Package migrations holds portalbot's database schema as embedded SQL
// files, one folder per dialect, and applies the pending ones in order.
//
// Files are named NNNN_topic.sql and are never edited once released: a
// schema change is a new file with the next number.
//
// It holds SQL and the runner only: it knows nothing of catalog types and
// is imported by catalog/sqlstore alone (and bot's migrate command).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// FS holds the migration files: postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

// Dialects supported by Apply.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// lockSQL takes the transaction-scoped advisory lock that serialises
// migrations between processes starting at the same time on one Postgres
// database. The second key is the schema, so databases that keep separate
// catalogs in separate schemas (tests do) do not wait on each other.
const lockSQL = "SELECT pg_advisory_xact_lock(hashtext('portalbot.migrate'), hashtext(current_schema()))"

// Files returns the migration file names of dialect in the order they apply.
func Files(dialect string) ([]string, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("migrate: unknown dialect %q", dialect)
	}
	names, err := fs.Glob(FS, dialect+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Apply applies the migrations of dialect that db has not recorded yet, each
// in its own transaction, and returns the versions it applied (file names
// without .sql), oldest first. On Postgres each transaction holds an
// advisory lock, so two processes starting together never both apply a file.
func Apply(ctx context.Context, db *sqlx.DB, dialect string) (applied []string, err error) {
	names, err := Files(dialect)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		version := strings.TrimSuffix(path.Base(name), ".sql")
		body, err := fs.ReadFile(FS, name)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", version, err)
		}
		done, err := applyOne(ctx, db, dialect, version, string(body))
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", version, err)
		}
		if done {
			applied = append(applied, version)
		}
	}
	return applied, nil
}

// applyOne applies one migration unless it is recorded, and reports whether
// it did.
func applyOne(ctx context.Context, db *sqlx.DB, dialect, version, body string) (bool, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	// Rollback after Commit is a no-op; its error says nothing new.
	defer func() { _ = tx.Rollback() }()
	if dialect == Postgres {
		if _, err := tx.ExecContext(ctx, lockSQL); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return false, err
	}
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), version); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
		version, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
