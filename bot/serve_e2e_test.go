package bot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// buildPortalbot builds the portalbot binary into a temporary directory.
func buildPortalbot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portalbot")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/portalbot/portalbot")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProc is one "portalbot serve" process; its stderr (JSON logs, as
// it is not a terminal) is kept for the test to read.
type serveProc struct {
	name string
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs bytes.Buffer // guarded by mu
	done chan struct{}
	err  error // set before done closes
}

// startServe starts bin serve with env (and nothing inherited but PATH and
// HOME) and waits until it listens.
func startServe(t *testing.T, bin, name string, env map[string]string) *serveProc {
	t.Helper()
	p := &serveProc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORTALBOT_HTTP_ADDR=127.0.0.1:0"}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.logs.Write(line)
			p.logs.WriteByte('\n')
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "serving" {
				select {
				case listening <- rec.Addr:
				default:
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.addr = <-listening:
	case <-p.done:
		t.Fatalf("%s exited before listening: %v\n%s", name, p.err, p.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not listen within 30s:\n%s", name, p.Logs())
	}
	return p
}

// Logs returns everything the process logged so far.
func (p *serveProc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// records returns the JSON log records; non-JSON lines fail the test.
func (p *serveProc) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.Logs()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("%s logged a line that is not JSON: %q", p.name, line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		t.Fatalf("%s did not stop within 40s of SIGTERM:\n%s", p.name, p.Logs())
	}
	if p.err != nil {
		t.Errorf("%s exited with %v after SIGTERM, want 0:\n%s", p.name, p.err, p.Logs())
	}
}

// get fetches path from the process.
func (p *serveProc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatalf("GET %s from %s: %v", path, p.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// slashForm is a slash command form as Slack posts it.
func slashForm(text, responseURL string) string {
	return url.Values{
		"team_id": {"T0TEST"}, "channel_id": {"C0TEST"}, "user_id": {"U0TEST"}, "user_name": {"tester"},
		"command": {"/portal"}, "text": {text}, "response_url": {responseURL}, "trigger_id": {"1.2.test"},
	}.Encode()
}

// slash posts a signed slash command to addr and returns status, request
// id and body.
func slash(t *testing.T, addr, secret, text, responseURL string) (int, string, string) {
	t.Helper()
	body := slashForm(text, responseURL)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/commands", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts, sig := slackadapter.NewVerifier(secret, nil).Sign(time.Now(), []byte(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /slack/commands: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Request-Id"), string(b)
}

// pgSchemaDSN creates a fresh migrated schema (dropped in t.Cleanup) and
// returns a DSN selecting it, with password as the URL's password (the
// test server trusts every connection, so any password works).
func pgSchemaDSN(t *testing.T, password string) (string, *sqlstore.Store) {
	t.Helper()
	st := sqlstoretest.OpenPostgres(t)
	var schema string
	if err := st.DB().Get(&schema, "SELECT current_schema()"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sqlstoretest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), st
}

// metricValue sums the samples of series whose labels include every
// label=value pair given, in Prometheus' text format.
func metricValue(text, series string, labels ...string) (float64, bool) {
	sum, found := 0.0, false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, series+"{") && !strings.HasPrefix(line, series+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &v); err == nil {
			sum, found = sum+v, true
		}
	}
	return sum, found
}

// waitFor polls cond every 50ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
