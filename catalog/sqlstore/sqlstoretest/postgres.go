package sqlstoretest

import (
	"net/url"
	"testing"

	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// PostgresThroughProxy creates a fresh migrated schema on the test Postgres
// server, as OpenPostgres does (failing or skipping the test
// the same way when there is none). It returns a store on the schema opened
// directly, for the test's own checks, a proxy to the server, and the URL
// of the schema through the proxy, for the code under test.
func PostgresThroughProxy(tb testing.TB) (direct *sqlstore.Store, p *Proxy, dsn string) {
	tb.Helper()
	direct = OpenPostgres(tb)
	var schema string
	if err := direct.DB().Get(&schema, "SELECT current_schema()"); err != nil {
		tb.Fatalf("current schema: %v", err)
	}
	u, err := url.Parse(PostgresDSN(tb))
	if err != nil {
		tb.Fatalf("PORTALBOT_TEST_POSTGRES: %v", err)
	}
	p = StartProxy(tb, u.Host)
	u.Host = p.Addr()
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return direct, p, u.String()
}
