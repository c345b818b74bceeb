package bot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/catalog/synth"
)

// hookSlack is a fake Slack for serve: the Web API calls serve makes at
// start answer ok, and what is posted to a response_url (/hooks/...) is
// recorded with when it came.
type hookSlack struct {
	srv *httptest.Server

	mu    sync.Mutex
	hooks map[string][]time.Time // path -> arrivals; guarded by mu
}

func newHookSlack(t *testing.T) *hookSlack {
	f := &hookSlack{hooks: map[string][]time.Time{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/hooks/") {
			f.mu.Lock()
			f.hooks[r.URL.Path] = append(f.hooks[r.URL.Path], time.Now())
			f.mu.Unlock()
			fmt.Fprint(w, "ok")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "user_id": "UBOT", "channel": "C0TEST", "ts": "1700000000.000100"})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// posts returns when something was posted to the response_url path.
func (f *hookSlack) posts(path string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.hooks[path]...)
}

// TestServeDatabaseHung runs serve against a Postgres that accepts
// connections and answers nothing (a proxy the test freezes; the server
// keeps running for other tests). serve starts anyway, says not ready,
// and becomes ready with migrations applied once the database answers.
// With the database hung again, a slash command is answered in the
// acknowledgement, within Slack's 3 s, from memory or as temporarily
// unavailable, and no late follow-up comes after it.
func TestServeDatabaseHung(t *testing.T) {
	_, proxy, dsn := sqlstoretest.PostgresThroughProxy(t)
	proxy.Freeze()

	bin := buildPortalbot(t)
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 100, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	slack := newHookSlack(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "portalbot.yaml")
	cfg := "sources:\n  - name: acme\n    repo: " + repos[0] + "\n    schedule: \"@every 1h\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "hung-signing-secret"
	p := startServe(t, bin, "hung", map[string]string{
		"PORTALBOT_CONFIG": cfgPath, "PORTALBOT_DB": dsn, "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
		"SLACK_BOT_TOKEN": "xoxb-hung", "SLACK_SIGNING_SECRET": secret, "PORTALBOT_SLACK_API_URL": slack.srv.URL + "/api/",
		"PORTALBOT_READYZ_DETAILS": "true", // the wait below reads the source's name
	})
	if code, _ := p.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the database hung at start = %d, want 200", code)
	}
	if code, body := p.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"unreachable"`) {
		t.Errorf("/readyz with the database hung at start = %d %s, want 503 and the database unreachable", code, body)
	}
	// Nothing is cached before the store opens: not ready even so.
	if code, _ := p.get(t, "/readyz?allow_cached=true"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz?allow_cached=true with the database hung at start = %d, want 503", code)
	}
	if code, _, body := slash(t, p.addr, secret, "owner service-1", slack.srv.URL+"/hooks/0"); code != http.StatusServiceUnavailable {
		t.Errorf("/portal owner service-1 before the database answered = %d %.200s, want 503", code, body)
	}

	defer func() {
		if t.Failed() {
			t.Logf("serve's log:\n%s", p.Logs())
		}
	}()
	proxy.Thaw()
	// The first sync runs after the database answers; a generous bound
	// because three packages' race-enabled tests on 2 cores once made it
	// take over 30 s, and once over 60 (serve's log is printed on failure).
	waitFor(t, 120*time.Second, "/readyz to say ready once the database answers", func() bool {
		code, body := p.get(t, "/readyz")
		return code == http.StatusOK && strings.Contains(body, `"name":"acme"`)
	})
	hook := 0
	ask := func(text string) (body string, took time.Duration, path string) {
		hook++
		path = fmt.Sprintf("/hooks/%d", hook)
		start := time.Now()
		code, _, body := slash(t, p.addr, secret, text, slack.srv.URL+path)
		if code != http.StatusOK {
			t.Fatalf("/portal %s = %d %s", text, code, body)
		}
		return body, time.Since(start), path
	}
	waitFor(t, 20*time.Second, "owner service-1 to be answered in the acknowledgement", func() bool {
		body, _, _ := ask("owner service-1")
		return strings.Contains(body, "service-1 is owned by")
	})

	proxy.Freeze()
	var asked []string
	for _, q := range []struct {
		text string
		want []string // any of
	}{
		// Answered a moment ago, so in memory and known current.
		{"owner service-1", []string{"service-1 is owned by"}},
		// Never asked about: its entity is not in memory.
		{"owner service-7", []string{"temporarily unavailable", "database is unreachable"}},
		{"deps service-1", []string{"temporarily unavailable", "database is unreachable", "service-1"}},
		{"search service", []string{"temporarily unavailable", "database is unreachable", "service-"}},
	} {
		body, took, path := ask(q.text)
		asked = append(asked, path)
		t.Logf("/portal %s with the database hung: acknowledged in %v", q.text, took.Round(time.Millisecond))
		if took > 3*time.Second {
			t.Errorf("/portal %s with the database hung took %v, want under Slack's 3 s", q.text, took)
		}
		ok := false
		for _, w := range q.want {
			ok = ok || strings.Contains(body, w)
		}
		if !ok || strings.Contains(body, "went wrong") {
			t.Errorf("/portal %s with the database hung = %.300s; want one of %q in the acknowledgement", q.text, body, q.want)
		}
	}
	// A late follow-up would come when a store call returns: give it the
	// time one would take to show up (the engine bounds them to 1.5 s).
	time.Sleep(4 * time.Second)
	for _, path := range asked {
		if got := slack.posts(path); len(got) > 0 {
			t.Errorf("a follow-up reached %s at %v after the database hung; want the answer in the acknowledgement only", path, got)
		}
	}
	proxy.Thaw()
	p.stop(t)
}

// TestServeSyncOnHalfOpenConnections leaves serve's pooled connections to
// Postgres half-open (they take what is sent and never answer, as after a
// failover; new connections work): scheduled syncs end at sync.timeout,
// claim and lease included, so the scheduler goes on and later ticks are
// recorded, instead of one tick waiting forever on a dead connection.
func TestServeSyncOnHalfOpenConnections(t *testing.T) {
	direct, proxy, dsn := sqlstoretest.PostgresThroughProxy(t)
	bin := buildPortalbot(t)
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "portalbot.yaml")
	cfg := "sync:\n  timeout: 2s\nsources:\n  - name: acme\n    repo: " + repos[0] + "\n    schedule: \"@every 2s\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, bin, "halfopen", map[string]string{
		"PORTALBOT_CONFIG": cfgPath, "PORTALBOT_DB": dsn, "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
	})
	recorded := func(since time.Time) int {
		var n int
		if err := direct.DB().Get(&n, "SELECT count(*) FROM job_runs WHERE job = 'sync:acme' AND status IN ('succeeded', 'failed') AND updated_at > $1", since); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor(t, 30*time.Second, "a first scheduled sync", func() bool { return recorded(time.Time{}) >= 1 })

	proxy.FreezeOpen()
	frozenAt := time.Now()
	waitFor(t, 40*time.Second, "a scheduled sync recorded after the pooled connections went dead", func() bool {
		return recorded(frozenAt) >= 1
	})
	proxy.Thaw()
	p.stop(t)
}

func TestConfigStoreTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portalbot.yaml")
	if err := os.WriteFile(path, []byte("store_timeout: 750ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, func(string) string { return "" })
	if err != nil || cfg.StoreTimeout != 750*time.Millisecond {
		t.Errorf("LoadConfig(store_timeout: 750ms) = %v, %v; want 750ms", cfg.StoreTimeout, err)
	}
}
