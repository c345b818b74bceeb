// Package sqlstoretest opens real stores for tests: a migrated SQLite file
// in the test's temporary directory, a fresh Postgres schema dropped at the
// end, and a TCP proxy that can cut or freeze the connection to Postgres. It
// is imported only by tests; production code never imports it (nor
// "testing" through it).
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// DefaultPostgres is the DSN Postgres tests use when the environment
// variable PORTALBOT_TEST_POSTGRES is empty.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// OpenSQLite opens a store on a fresh SQLite file in tb.TempDir(),
// migrated, and closes it in tb.Cleanup.
func OpenSQLite(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(tb.TempDir(), "catalog.db"))
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// OpenPostgres opens a store on a fresh schema of the Postgres database
// named by PORTALBOT_TEST_POSTGRES (DefaultPostgres when empty), migrated
// and dropped in tb.Cleanup. When the server does not answer, the test fails
// if the environment variable CI is set and is skipped, loudly, otherwise.
func OpenPostgres(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	dsn := PostgresDSN(tb)
	schema := "test_" + randomHex(tb, 8)
	admin := sqlx.MustOpen("postgres", dsn)
	tb.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema %s: %v", schema, err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("PORTALBOT_TEST_POSTGRES: want a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := sqlstore.Open(context.Background(), u.String())
	if err != nil {
		tb.Fatalf("open postgres store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// PostgresDSN returns the DSN of the test Postgres server after checking
// that it answers, failing (CI set) or skipping the test when it does not.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("PORTALBOT_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultPostgres
	}
	db, err := sqlx.Open("postgres", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		msg := "Postgres at %s is unreachable (%v). Start one, e.g. " +
			"`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16`, " +
			"or point PORTALBOT_TEST_POSTGRES at a database you may create schemas in."
		if os.Getenv("CI") != "" {
			tb.Fatalf(msg, sqlstore.Redact(dsn), err)
		}
		tb.Skipf("SKIPPING POSTGRES TEST: "+msg, sqlstore.Redact(dsn), err)
	}
	return dsn
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Stores returns the store constructors to run a test on, by dialect name.
func Stores() map[string]func(testing.TB) *sqlstore.Store {
	return map[string]func(testing.TB) *sqlstore.Store{
		"sqlite":   OpenSQLite,
		"postgres": OpenPostgres,
	}
}
