package bot

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/migrations"
)

func TestMigrateCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		env := &Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
		code := Main(context.Background(), append([]string{"migrate"}, args...), env)
		return code, out.String(), errOut.String()
	}
	files, err := migrations.Files("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("--db", db)
	if code != ExitOK || !strings.Contains(out, "applied 0001_catalog\n") || !strings.Contains(out, fmt.Sprintf("%d applied now", len(files))) {
		t.Errorf("migrate --db %s = %d, stdout %q, stderr %q; want 0 and each migration listed", db, code, out, errOut)
	}
	code, out, _ = run("--db", db)
	if code != ExitOK || strings.Contains(out, "applied 0001") || !strings.Contains(out, "0 applied now") {
		t.Errorf("migrate again = %d, %q; want 0 with nothing applied", code, out)
	}
	if code, out, _ = run("--help"); code != ExitOK || !strings.Contains(out, "Usage: portalbot migrate") {
		t.Errorf("migrate --help = %d, %q", code, out)
	}
	if code, _, errOut = run("--db", "mysql://x"); code != ExitUsage || !strings.Contains(errOut, "db:") {
		t.Errorf("migrate --db mysql://x = %d, stderr %q; want usage error naming db", code, errOut)
	}
	if code, _, errOut = run("--db", "postgres://bot:pw@127.0.0.1:1/x?connect_timeout=2"); code != ExitFail ||
		!strings.Contains(errOut, "temporarily unavailable") || strings.Contains(errOut, ":pw@") {
		t.Errorf("migrate against a closed port = %d, stderr %q; want 1, unavailable, password hidden", code, errOut)
	}
}
