package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot"
	"github.com/portalbot/portalbot/catalog/ingest/portal/portaltest"
)

// runBot runs a portalbot subcommand with the Backstage token tok in the
// environment.
func runBot(t *testing.T, tok string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cache := t.TempDir()
	env := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		switch k {
		case "PORTALBOT_BACKSTAGE_TOKEN":
			return tok
		case "XDG_CACHE_HOME":
			return cache
		}
		return ""
	}}
	code := bot.Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	return got
}

// TestSyncBackstageFlag: sync --backstage mirrors the portal, answers name
// the portal's owners, and a wrong token fails clearly and loses nothing.
func TestSyncBackstageFlag(t *testing.T) {
	const tok = "static-token-for-test"
	ents := portaltest.Recorded(t)
	srv := portaltest.NewServer(t, tok, ents)
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	code, out, errs := runBot(t, tok, "sync", "--db", db, "--backstage", srv.URL, "--json")
	if code != 0 {
		t.Fatalf("sync --backstage exit %d, stderr %s", code, errs)
	}
	got := lastJSON(t, out)
	if got["added"] != float64(len(ents)) || got["Component"] != float64(3) || got["Template"] != float64(1) {
		t.Errorf("sync --backstage JSON = %v, want %d added, 3 Components, 1 Template", got, len(ents))
	}
	owner := func() string {
		t.Helper()
		code, out, errs := runBot(t, tok, "ask", "--db", db, "owner payments-api")
		if code != 0 {
			t.Fatalf("ask owner exit %d: %s", code, errs)
		}
		return out
	}
	if o := owner(); !strings.Contains(o, "owned by Payments team") || !strings.Contains(o, "Ada Lovelace") {
		t.Errorf("ask owner payments-api = %q, want the portal's Payments team and its member", o)
	}

	code, _, errs = runBot(t, "wrong-token", "sync", "--db", db, "--backstage", srv.URL)
	if code == 0 {
		t.Fatalf("sync with a wrong token exit 0, want failure")
	}
	for _, want := range []string{srv.URL + "/api/catalog/entities/by-query", "401 Unauthorized", "Illegal token"} {
		if !strings.Contains(errs, want) {
			t.Errorf("sync with a wrong token: stderr %q lacks %q", errs, want)
		}
	}
	if strings.Contains(errs, "wrong-token") {
		t.Errorf("stderr %q shows the token", errs)
	}
	if o := owner(); !strings.Contains(o, "owned by Payments team") {
		t.Errorf("ask owner after a failed sync = %q, want the last good answer", o)
	}
}

// TestSyncBackstageMixed: Groups from the portal, Components from Git, in
// one config file; an entity both define stays with the first source and
// the conflict is reported.
func TestSyncBackstageMixed(t *testing.T) {
	const tok = "static-token-for-test"
	srv := portaltest.NewServer(t, tok, portaltest.Recorded(t))
	repo := filepath.Join(t.TempDir(), "services")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	desc := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-ui
spec:
  type: website
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: web-shop
spec:
  type: website
  lifecycle: production
  owner: payments
`
	if err := os.WriteFile(filepath.Join(repo, "catalog-info.yaml"), []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	commitAll(t, repo)
	cfg := filepath.Join(t.TempDir(), "portalbot.yaml")
	conf := "sources:\n  - name: services\n    repo: " + repo + "\n  - name: portal\n    backstage: " + srv.URL + "\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	code, out, errs := runBot(t, tok, "sync", "--db", db, "--config", cfg)
	if code != 0 {
		t.Fatalf("sync exit %d: %s%s", code, out, errs)
	}
	want := "entity component:default/web-shop is already defined by source services in catalog-info.yaml"
	if !strings.Contains(out, want) {
		t.Errorf("sync output %q lacks the conflict %q", out, want)
	}
	code, out, errs = runBot(t, tok, "ask", "--db", db, "owner checkout-ui")
	if code != 0 || !strings.Contains(out, "owned by Payments team") {
		t.Errorf("ask owner checkout-ui = %d %q %s; want the portal's Payments team", code, out, errs)
	}
	code, out, errs = runBot(t, tok, "ask", "--db", db, "owner web-shop")
	if code != 0 || !strings.Contains(out, "owned by Payments team") {
		t.Errorf("ask owner web-shop = %d %q %s; want Git's owner, payments (first source wins)", code, out, errs)
	}
}
