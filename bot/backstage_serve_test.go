package bot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/ingest/portal/portaltest"
)

// TestServeBackstageSource: serve syncs a backstage: source on its
// schedule and reports it in /readyz; a tick that fails (the portal
// answers 503 to every attempt) is reported with the URL and status while
// answers stay, and the next tick recovers.
func TestServeBackstageSource(t *testing.T) {
	const tok = "serve-static-token"
	srv := portaltest.NewServer(t, tok, portaltest.Recorded(t))
	bin := buildPortalbot(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "portalbot.yaml")
	cfg := "sources:\n  - name: portal\n    backstage: " + srv.URL + "\n    schedule: \"@every 1s\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, bin, "replica", map[string]string{
		"PORTALBOT_CONFIG": cfgPath, "PORTALBOT_DB": "sqlite:" + filepath.Join(dir, "c.db"),
		"PORTALBOT_BACKSTAGE_TOKEN": tok, "PORTALBOT_READYZ_DETAILS": "true",
	})
	type readyz struct {
		Sources []struct {
			Name, Status, Message string
		} `json:"sources"`
	}
	source := func() (string, string) {
		_, body := p.get(t, "/readyz")
		var r readyz
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/readyz body %q: %v", body, err)
		}
		for _, s := range r.Sources {
			if s.Name == "portal" {
				return s.Status, s.Message
			}
		}
		return "", ""
	}
	waitFor(t, 20*time.Second, "the portal source synced", func() bool { st, _ := source(); return st == "ok" })
	// Three attempts per tick: three whole ticks fail. One failed tick
	// would do, but the ticks that fired during its retries run right after
	// it, so its error could be replaced before a poll sees it.
	srv.FailNext("/api/catalog/entities/by-query", 503, 503, 503, 503, 503, 503, 503, 503, 503)
	waitFor(t, 20*time.Second, "/readyz to report the failed tick", func() bool {
		st, msg := source()
		return st == "error" && strings.Contains(msg, srv.URL) && strings.Contains(msg, "503")
	})
	if strings.Contains(p.Logs(), tok) {
		t.Errorf("serve logged the token")
	}
	waitFor(t, 20*time.Second, "the next tick to recover", func() bool { st, _ := source(); return st == "ok" })
}
