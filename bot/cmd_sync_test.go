package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot"
	"github.com/portalbot/portalbot/catalog/synth"
)

func runSync(t *testing.T, cache string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return cache
		}
		return ""
	}}
	code := bot.Main(context.Background(), append([]string{"sync"}, args...), env)
	return code, out.String(), errb.String()
}

func TestSyncCommandJSON(t *testing.T) {
	repos, stats, err := synth.GenerateStats(t.TempDir(), synth.Options{Entities: 300, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	cache := t.TempDir()
	code, out, errs := runSync(t, cache, "--db", db, "--repo", repos[0], "--json")
	if code != 0 {
		t.Fatalf("sync exit %d, stderr %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	for kind, n := range stats {
		if got[kind] != float64(n) {
			t.Errorf("JSON %q = %v, want %d", kind, got[kind], n)
		}
	}
	if got["added"] != float64(stats.Total()) || got["updated"] != float64(0) || got["removed"] != float64(0) {
		t.Errorf("JSON added/updated/removed = %v/%v/%v, want %d/0/0", got["added"], got["updated"], got["removed"], stats.Total())
	}
	if _, ok := got["duration_ms"].(float64); !ok {
		t.Errorf("JSON duration_ms = %v, want a number", got["duration_ms"])
	}
	if errsList, ok := got["errors"].([]any); !ok || len(errsList) != 0 {
		t.Errorf("JSON errors = %v, want []", got["errors"])
	}

	// A broken file: exit 0, the error listed with file and line.
	if _, err := synth.Commit(repos[0], "break", map[string]synth.Change{synth.ServicePath(1): synth.Write("kind: Component\nmetadata: [\n")}); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runSync(t, cache, "--db", db, "--repo", repos[0], "--json")
	if code != 0 {
		t.Fatalf("sync with a broken file: exit %d, stderr %s", code, errs)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatal(err)
	}
	list, _ := got["errors"].([]any)
	if len(list) != 1 {
		t.Fatalf("JSON errors = %v, want one", got["errors"])
	}
	e := list[0].(map[string]any)
	if e["file"] != synth.ServicePath(1) || e["line"].(float64) < 1 || e["source"] == "" {
		t.Errorf("JSON error = %v, want file %s with a line", e, synth.ServicePath(1))
	}

	// The text summary names the error's file:line.
	code, out, _ = runSync(t, cache, "--db", db, "--repo", repos[0])
	if code != 0 || !strings.Contains(out, synth.ServicePath(1)+":") || !strings.Contains(out, "unchanged") {
		t.Errorf("sync summary (exit %d):\n%s", code, out)
	}
}

func TestSyncCommandFailures(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	code, _, errs := runSync(t, t.TempDir(), "--db", db, "--repo", filepath.Join(t.TempDir(), "no-such-repo"))
	if code == 0 || !strings.Contains(errs, "no-such-repo") {
		t.Errorf("sync of a missing repo: exit %d, stderr %q; want non-zero naming it", code, errs)
	}
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 50})
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = runSync(t, t.TempDir(), "--db", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "--repo", repos[0])
	if code == 0 || !strings.Contains(errs, "database") {
		t.Errorf("sync with the database down: exit %d, stderr %q; want non-zero with a clear message", code, errs)
	}
	code, _, errs = runSync(t, t.TempDir(), "--db", db)
	if code != bot.ExitUsage || !strings.Contains(errs, "no sources") {
		t.Errorf("sync without sources: exit %d, stderr %q", code, errs)
	}
}
