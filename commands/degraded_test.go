package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/view"
)

// tcpProxy forwards connections to target until cut, which closes the
// listener and every open connection as a lost network would; restore
// listens on the same address again.
type tcpProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener          // guarded by mu; nil while cut
	conns map[net.Conn]struct{} // guarded by mu
}

func startProxy(tb testing.TB, target string) *tcpProxy {
	tb.Helper()
	p := &tcpProxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.restore(tb)
	tb.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) restore(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		tb.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // cut
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		// Copy ends when either side closes; the error says only that.
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestDatabaseDown cuts the connection to Postgres under a running engine:
// what is in memory is answered with its age, the rest as temporarily
// unavailable, and once the database is reachable again the engine
// answers normally without a restart.
func TestDatabaseDown(t *testing.T) {
	dsn := sqlstoretest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	schema := "test_degraded_" + hex.EncodeToString(rnd[:])
	admin := sqlx.MustOpen("postgres", dsn)
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	proxy := startProxy(t, u.Host)
	pu := *u
	pu.Host = proxy.addr
	q := pu.Query()
	q.Set("search_path", schema)
	q.Set("connect_timeout", "2")
	pu.RawQuery = q.Encode()
	st, err := sqlstore.Open(context.Background(), pu.String())
	if err != nil {
		t.Fatalf("open store through the proxy: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")

	now := time.Unix(1_000_000, 0)
	r := newClockedRouter(Params{Store: st, PortalURL: "https://portal.example.com"}, func() time.Time { return now })
	ask := func(text string) Reply {
		return r.Serve(context.Background(), &Request{Platform: PlatformConsole, Text: text})
	}
	const owned = "payments-api is owned by Payments Team"

	fresh := ask("owner payments-api")
	if fresh.Title != owned || strings.Contains(fresh.Text, "unreachable") {
		t.Fatalf("owner payments-api with the database up = %q / %q, want %q and no note", fresh.Title, fresh.Text, owned)
	}
	freshDocs := ask("docs payments-rest")
	if !strings.Contains(flatFields(freshDocs), "Definition") {
		t.Fatalf("docs payments-rest with the database up = %+v, want a Definition field", freshDocs)
	}
	proxy.cut()
	now = now.Add(3*time.Minute + 10*time.Second)
	stale := ask("owner payments-api")
	if stale.Title != owned || !strings.Contains(stale.Text, "(From the catalog as of 3 minutes ago; the database is unreachable.)") {
		t.Errorf("owner payments-api with the database down = %q / %q, want %q with a note saying 3 minutes", stale.Title, stale.Text, owned)
	}
	if got := ask("docs payments-rest"); flatFields(got) != flatFields(freshDocs) || !strings.Contains(got.Text, "database is unreachable") {
		t.Errorf("docs payments-rest with the database down = %+v, want the same fields as before with the note", got)
	}
	if got := ask("owner component:checkout"); got.Text != "The catalog is temporarily unavailable; please try again in a moment." {
		t.Errorf("owner checkout (never loaded) with the database down = %q / %q, want the unavailable message", got.Title, got.Text)
	}
	if got := ask("owner paymnts-api"); !strings.Contains(got.Text, "Did you mean payments-api?") || !strings.Contains(got.Text, "database is unreachable") {
		t.Errorf("owner paymnts-api with the database down = %q, want a suggestion with the note", got.Text)
	}

	proxy.restore(t)
	var got Reply
	for range 5 {
		// Connections the pool held died with the cut; database/sql drops
		// each as it fails, so allow a few probes (one per view.RefreshEvery).
		now = now.Add(2 * view.RefreshEvery)
		if got = ask("owner component:checkout"); strings.HasPrefix(got.Title, "checkout is owned by") {
			break
		}
	}
	if !strings.HasPrefix(got.Title, "checkout is owned by") || strings.Contains(got.Text, "unreachable") {
		t.Errorf("owner checkout after the database is back = %q / %q, want an owner and no note", got.Title, got.Text)
	}
	if got := ask("owner payments-api"); got.Title != owned || strings.Contains(got.Text, "unreachable") {
		t.Errorf("owner payments-api after the database is back = %q / %q, want no note", got.Title, got.Text)
	}
}

func TestAgo(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "less than a minute ago"},
		{59 * time.Second, "less than a minute ago"},
		{time.Minute, "1 minute ago"},
		{3*time.Minute + 59*time.Second, "3 minutes ago"},
		{time.Hour, "1 hour ago"},
		{47 * time.Hour, "47 hours ago"},
		{72 * time.Hour, "3 days ago"},
	} {
		if got := ago(tt.d); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// flatFields lists a reply's fields as name=value lines.
func flatFields(r Reply) string {
	var b strings.Builder
	for _, f := range r.Fields {
		b.WriteString(f.Name + "=" + f.Value + "\n")
	}
	return b.String()
}
