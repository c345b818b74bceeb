// Package sqlstore implements catalog.Store on sqlx: PostgreSQL through
// lib/pq in production, embedded SQLite (modernc.org/sqlite, pure Go) as the
// zero-setup default. Both dialects share one implementation; the few places
// where they differ (bulk writes, locks) branch on the dialect.
//
// It is the only package that knows SQL and the drivers; it imports catalog
// and migrations, never what reads the catalog (view, commands, bot), and
// no non-test code imports it but bot and sqlstoretest.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // registers the "postgres" driver
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/migrations"
)

var _ catalog.Store = (*Store)(nil)

// Store is the SQL catalog store. It is safe for concurrent use, and several
// processes may share one database: syncs serialise on a lock, and the
// coordination methods (Once, TryLease, ClaimRun, RecordLaunch) decide with
// single atomic statements.
type Store struct {
	db      *sqlx.DB
	dialect string // migrations.Postgres or migrations.SQLite
	// onceCalls counts Once calls, to purge expired keys now and then.
	onceCalls atomic.Int64
	// prunedAt is when ClaimRun last started PruneRuns, in Unix
	// nanoseconds; 0 before the first time.
	prunedAt atomic.Int64

	countsMu  sync.Mutex
	counts    map[string]int // Counts at generation countsGen; nil until first counted; guarded by countsMu
	countsGen int64          // guarded by countsMu

	// analyzeAfter overrides the package's analyzeAfter when positive
	// (tests).
	analyzeAfter int
	// logMax and logKeep override changeLogMax and changeLogKeep when
	// positive (tests).
	logMax, logKeep int

	// entityStmt is Entity's statement and bareStmt the statement of
	// Entities for one ref without relations, each prepared once on
	// Postgres (see statement).
	entityStmt, bareStmt onceStmt
}

// sqliteParams are the connection settings of every SQLite connection: WAL
// so readers never block the writer, a busy timeout so a second process
// waits for the write lock instead of failing, foreign keys on, and
// BEGIN IMMEDIATE so a transaction takes the write lock up front rather than
// failing with SQLITE_BUSY when it upgrades from reading to writing.
// mmap_size maps up to 1 GiB of the database file so that reads of the
// whole entities table (Summaries, for every drift report) copy no pages
// through read(2) into a per-connection cache: a cold report at 100,000
// entities took 1.33 s without it, 0.86 s with it.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)&_txlock=immediate"

// Open opens the database named by dbURL, postgres://... (or postgresql://)
// or sqlite:PATH (sqlite::memory: for a private in-memory database), and
// applies pending migrations. Connection failures wrap catalog.ErrUnavailable.
func Open(ctx context.Context, dbURL string) (*Store, error) {
	s, err := open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if _, err := migrations.Apply(ctx, s.db, s.dialect); err != nil {
		s.db.Close()
		return nil, s.wrap("open", err)
	}
	return s, nil
}

// OpenNoMigrate is Open without applying migrations; `portalbot migrate`
// uses it to report what it applies.
func OpenNoMigrate(ctx context.Context, dbURL string) (*Store, error) {
	return open(ctx, dbURL)
}

func open(ctx context.Context, dbURL string) (*Store, error) {
	var (
		db      *sqlx.DB
		dialect string
		err     error
	)
	switch {
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		dialect = migrations.Postgres
		var conn *pgConnector
		conn, err = newPGConnector(postgresDSN(dbURL))
		if err == nil {
			db = sqlx.NewDb(sql.OpenDB(conn), "postgres")
			// As many idle as open connections: under concurrent commands a
			// smaller idle pool closes and reopens connections all the time.
			db.SetMaxOpenConns(16)
			db.SetMaxIdleConns(16)
			db.SetConnMaxIdleTime(5 * time.Minute)
		}
	case strings.HasPrefix(dbURL, "sqlite:"):
		dialect = migrations.SQLite
		path := strings.TrimPrefix(dbURL, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("open %s: sqlite: needs a path", Redact(dbURL))
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// sqlx binds by driver name and does not know "sqlite"; the
		// driver speaks the same "?" placeholders as "sqlite3".
		var raw *sqlx.DB
		raw, err = sqlx.Open("sqlite", path+sep+sqliteParams)
		if err == nil {
			db = sqlx.NewDb(raw.DB, "sqlite3")
			if path == ":memory:" {
				// Each connection would get its own empty database.
				db.SetMaxOpenConns(1)
			}
		}
	default:
		return nil, fmt.Errorf("open %s: want postgres://... or sqlite:PATH", Redact(dbURL))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", Redact(dbURL), err)
	}
	s := &Store{db: db, dialect: dialect}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, s.wrap("open "+Redact(dbURL), err)
	}
	return s, nil
}

// Redact returns dbURL with any password hidden, fit for logs and messages.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		if err != nil && !strings.HasPrefix(dbURL, "sqlite:") {
			return "[unparseable url]"
		}
		return dbURL
	}
	return u.Redacted()
}

// Close closes the database. The store must not be used afterwards.
func (s *Store) Close() error {
	s.entityStmt.close()
	s.bareStmt.close()
	return s.db.Close()
}

// Ping checks that the database answers. The error wraps
// catalog.ErrUnavailable when it does not.
func (s *Store) Ping(ctx context.Context) error {
	return s.wrap("ping", s.db.PingContext(ctx))
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// DB returns the underlying database handle, for migrations and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// Migrate applies pending migrations and returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	applied, err := migrations.Apply(ctx, s.db, s.dialect)
	return applied, s.wrap("migrate", err)
}

func (s *Store) pg() bool { return s.dialect == migrations.Postgres }

// postgresDSN adds binary_parameters=yes unless the URL sets it: lib/pq
// then sends a query with arguments in one round trip instead of
// preparing it first, which halves the latency of every point lookup.
// It also adds connect_timeout=10 unless set: without it lib/pq waits
// forever for a server that accepts TCP and never answers, in the
// handshake and in the cancel requests it sends for ended calls.
func postgresDSN(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL // open reports the bad URL
	}
	q := u.Query()
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", defaultConnectTimeout)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// defaultConnectTimeout is lib/pq's connect_timeout, in seconds, when the
// database URL sets none.
const defaultConnectTimeout = "10"
