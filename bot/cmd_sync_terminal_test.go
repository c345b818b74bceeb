package bot_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot"
	"github.com/portalbot/portalbot/catalog/synth"
)

// syncEnv runs sync in-process with stdout and stderr captured, the
// logger writing to stderr as main sets it up, and no SSH agent.
func syncOn(t *testing.T, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cache := t.TempDir()
	env := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Terminal: terminal,
		Logger: slog.New(slog.NewTextHandler(&errb, nil)),
		Getenv: func(k string) string {
			if k == "XDG_CACHE_HOME" {
				return cache
			}
			return ""
		}}
	code := bot.Main(context.Background(), append([]string{"sync"}, args...), env)
	return code, out.String(), errb.String()
}

// TestSyncProgressTerminal checks sync's progress on a terminal: each
// phase by name, the count of sources, and every log record starting on a
// line of its own (a progress line is ended before it).
func TestSyncProgressTerminal(t *testing.T) {
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 300, Seed: 3, Repos: 2})
	if err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	code, _, errs := syncOn(t, true, "--db", db, "--repo", repos[0], "--repo", repos[1])
	if code != 0 {
		t.Fatalf("sync: exit %d, stderr %q", code, errs)
	}
	for _, w := range []string{"[1/2]", "[2/2]", "fetching", "discovering", "writing", "files"} {
		if !strings.Contains(errs, w) {
			t.Errorf("sync progress = %q, want %q in it", errs, w)
		}
	}
	for _, line := range strings.Split(errs, "\n") {
		if i := strings.Index(line, "level="); i >= 0 && strings.Contains(line[:i], "\r") {
			t.Errorf("log record on a progress line: %q", line)
		}
	}
	// Without a terminal, no progress at all.
	_, _, errs = syncOn(t, false, "--db", db, "--repo", repos[0])
	if strings.Contains(errs, "\r") || strings.Contains(errs, "discovering") {
		t.Errorf("sync progress without a terminal: %q", errs)
	}
}

// TestSyncErrorsSayWhy checks the messages of sync's usual failures: each
// printed once, naming the fix, and a database URL named once.
func TestSyncErrorsSayWhy(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	t.Run("ssh without a key", func(t *testing.T) {
		code, out, errs := syncOn(t, false, "--db", db, "--repo", "ssh://git@git.example.invalid/acme/catalog.git")
		all := out + errs
		if code == 0 || !strings.Contains(errs, "PORTALBOT_GIT_SSH_KEY_FILE") {
			t.Errorf("sync: exit %d, stderr %q; want the key variable named", code, errs)
		}
		if n := strings.Count(all, "git.example.invalid/acme/catalog.git"); n != 1 {
			t.Errorf("sync printed the failure %d times, want once:\nstdout %s\nstderr %s", n, out, errs)
		}
	})
	t.Run("sqlite directory missing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "no", "such")
		code, _, errs := syncOn(t, false, "--db", "sqlite:"+filepath.Join(dir, "c.db"), "--repo", "x")
		if code == 0 || !strings.Contains(errs, dir) || !strings.Contains(errs, "does not exist") || strings.Contains(errs, "temporarily unavailable") {
			t.Errorf("sync: exit %d, stderr %q; want the missing directory named", code, errs)
		}
	})
	t.Run("sqlite directory is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := syncOn(t, false, "--db", "sqlite:"+filepath.Join(f, "c.db"), "--repo", "x")
		if code == 0 || !strings.Contains(errs, "not a directory") {
			t.Errorf("sync: exit %d, stderr %q; want it to say the directory is a file", code, errs)
		}
	})
	t.Run("postgres down", func(t *testing.T) {
		code, _, errs := syncOn(t, false, "--db", "postgres://bob:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "--repo", "x")
		if code == 0 || strings.Count(errs, "127.0.0.1:1/none") != 1 || strings.Contains(errs, "s3cret") {
			t.Errorf("sync: exit %d, stderr %q; want the URL once, without its password", code, errs)
		}
	})
}
