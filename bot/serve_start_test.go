package bot

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeStartWarnings starts serve with neither a chat platform nor a
// catalog source: it serves, and says at start what is missing.
func TestServeStartWarnings(t *testing.T) {
	bin := buildPortalbot(t)
	p := startServe(t, bin, "bare", map[string]string{"PORTALBOT_DB": "sqlite:" + filepath.Join(t.TempDir(), "p.db")})
	p.stop(t)
	var warned []string
	for _, r := range p.records(t) {
		if r["level"] == "WARN" {
			warned = append(warned, r["msg"].(string))
		}
	}
	all := strings.Join(warned, "\n")
	for _, w := range []string{"no chat platform", "SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN", "no catalog sources"} {
		if !strings.Contains(all, w) {
			t.Errorf("serve warnings = %q, want %q in them", warned, w)
		}
	}

	// An unknown log level is refused, not taken as info.
	// Bounded: a serve that takes the level runs until killed.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = []string{"PORTALBOT_LOG_LEVEL=verbose", "HOME=" + t.TempDir(), "PORTALBOT_DB=sqlite:" + filepath.Join(t.TempDir(), "p.db"), "PORTALBOT_HTTP_ADDR=127.0.0.1:0"}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), `PORTALBOT_LOG_LEVEL "verbose"`) {
		t.Errorf("serve with PORTALBOT_LOG_LEVEL=verbose: %v, output %q; want exit 2 naming the variable", err, out)
	}
}
