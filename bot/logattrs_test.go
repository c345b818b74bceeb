package bot

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/commands"
)

// TestLogAttributesOnce fails before the fix: bot scoped the commands and
// scaffolder loggers with "component" and each package scoped its own
// again, so every line carried the key twice; and durations were logged
// as raw nanoseconds ("took": 326300) rather than seconds.
func TestLogAttributesOnce(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := &App{Store: sqlstoretest.OpenSQLite(t), Logger: logger, Config: DefaultConfig(), Env: &Env{Getenv: func(string) string { return "" }}}
	r, closeRouter := newRouter(a)
	defer closeRouter()
	for _, text := range []string{"owner nothing-here", "templates", "create nothing-here"} {
		r.Serve(context.Background(), &commands.Request{Platform: "console", UserID: "u", Text: text})
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("the router logged nothing at debug level; the test checks nothing")
	}
	for _, l := range lines {
		if n := strings.Count(l, `"component":`); n > 1 {
			t.Errorf("log line has %d component attributes, want 1: %s", n, l)
		}
		if strings.Contains(l, `"took":`) {
			t.Errorf("log line has a duration in nanoseconds (took), want seconds (took_s): %s", l)
		}
	}
}
