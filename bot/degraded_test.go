package bot

import (
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/synth"
)

// tcpProxy forwards connections to target until cut; while cut it closes
// every open connection and refuses new ones, as a database outage would.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool                  // guarded by mu
	conns  map[net.Conn]struct{} // guarded by mu
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, pair := range [][2]net.Conn{{up, c}, {c, up}} {
		wg.Go(func() {
			// Copy errors end the pair; both sides close below.
			_, _ = io.Copy(pair[0], pair[1])
			pair[0].Close()
			pair[1].Close()
		})
	}
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// setCut cuts (true) or restores (false) the link.
func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

// TestServeDatabaseOutage runs serve against Postgres through a proxy the
// test cuts (the real server keeps running for other tests): /readyz turns
// not ready, a command answers clearly, no report is posted twice; once
// the proxy is restored everything recovers without a restart.
func TestServeDatabaseOutage(t *testing.T) {
	dsn, st := pgSchemaDSN(t, "")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()

	bin := buildPortalbot(t)
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 100, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	slack := newFakeSlack(t, nil)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "portalbot.yaml")
	cfg := "sources:\n  - name: acme\n    repo: " + repos[0] + "\n    schedule: \"@every 2s\"\n" +
		"reports:\n  targets:\n    - name: outage\n      platform: slack\n      channel: C0OUT\n      schedule: \"@every 2s\"\n      empty: oneline\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "outage-signing-secret"
	p := startServe(t, bin, "replica", map[string]string{
		"PORTALBOT_CONFIG": cfgPath, "PORTALBOT_DB": u.String(), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
		"SLACK_BOT_TOKEN": "xoxb-outage", "SLACK_SIGNING_SECRET": secret, "PORTALBOT_SLACK_API_URL": slack.srv.URL + "/api/",
	})
	waitFor(t, 20*time.Second, "a first report", func() bool { return len(slack.Posts()) >= 1 })
	// The first sync and the first report run side by side: wait until the
	// answers come from the synced catalog before cutting the database.
	waitFor(t, 20*time.Second, "the synced catalog in answers", func() bool {
		code, _, body := slash(t, p.addr, secret, "owner service-1", slack.srv.URL+"/hooks/1")
		return code == 200 && strings.Contains(body, "service-1 is owned by")
	})

	proxy.setCut(true)
	waitFor(t, 15*time.Second, "/readyz to say not ready", func() bool {
		code, body := p.get(t, "/readyz")
		return code == 503 && strings.Contains(body, `"database":"unreachable"`)
	})
	if code, _ := p.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz during the outage = %d, want 200 (alive)", code)
	}
	// Commands answer from the cache: the Kubernetes readiness probe's
	// form keeps the replica in the Service.
	if code, body := p.get(t, "/readyz?allow_cached=true"); code != 200 || !strings.Contains(body, `"database":"unreachable"`) {
		t.Errorf("/readyz?allow_cached=true during the outage = %d %s, want 200 and the database unreachable", code, body)
	}
	postsAtCut := len(slack.Posts())
	code, _, body := slash(t, p.addr, secret, "owner service-7", slack.srv.URL+"/hooks/2")
	if code != 200 || !(strings.Contains(body, "temporarily unavailable") || strings.Contains(body, "service-7 is owned by")) {
		t.Errorf("owner during the outage = %d %.400s; want the catalog temporarily unavailable (or a cached answer)", code, body)
	}
	time.Sleep(4500 * time.Millisecond) // two report ticks without a database
	if n := len(slack.Posts()); n > postsAtCut+1 {
		t.Errorf("%d reports posted with the database down (had %d), want at most the one under way", n, postsAtCut)
	}

	proxy.setCut(false)
	waitFor(t, 30*time.Second, "/readyz to recover", func() bool {
		code, _ := p.get(t, "/readyz")
		return code == 200
	})
	if code, _, body := slash(t, p.addr, secret, "owner service-7", slack.srv.URL+"/hooks/3"); code != 200 || !strings.Contains(body, "service-7 is owned by") {
		t.Errorf("owner after recovery = %d %.400s", code, body)
	}
	resumed := len(slack.Posts())
	waitFor(t, 20*time.Second, "reports to resume", func() bool { return len(slack.Posts()) > resumed })
	p.stop(t)

	var succeeded, unrecorded int
	if err := st.DB().Get(&succeeded, "SELECT count(*) FROM job_runs WHERE job = 'report:outage' AND status = 'succeeded'"); err != nil {
		t.Fatal(err)
	}
	// The report under way when the database went: it may have posted and
	// then failed to record its success, and no tick is posted twice.
	if err := st.DB().Get(&unrecorded, "SELECT count(*) FROM job_runs WHERE job = 'report:outage' AND status <> 'succeeded'"); err != nil {
		t.Fatal(err)
	}
	if n := len(slack.Posts()); n < succeeded || n > succeeded+min(unrecorded, 1) {
		t.Errorf("fake Slack got %d posts for %d recorded report ticks (%d not recorded as succeeded); want one each, none doubled", n, succeeded, unrecorded)
	}
}
