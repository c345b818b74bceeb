package bot

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadyzShowsConnections serves Slack over Socket Mode against a fake
// Slack whose Socket Mode URL refuses connections: /readyz names the
// connection, its state, the reason and the next retry, and stays ready.
func TestReadyzShowsConnections(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/auth.test":
			io.WriteString(w, `{"ok":true,"user_id":"UBOT","bot_id":"BBOT"}`)
		case "/api/apps.connections.open":
			io.WriteString(w, `{"ok":true,"url":"ws://127.0.0.1:1/link/?ticket=t1"}`)
		default:
			io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
		}
	}))
	defer fake.Close()
	env := map[string]string{
		"SLACK_BOT_TOKEN":         "xoxb-test",
		"SLACK_APP_TOKEN":         "xapp-1-test",
		"PORTALBOT_SLACK_API_URL": fake.URL + "/api",
	}
	cfg := DefaultConfig()
	cfg.DB = "sqlite:" + filepath.Join(t.TempDir(), "portalbot.db")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ReadyzDetails = true // the error and next retry are details
	base := serveInProcess(t, cfg, env)

	type readyz struct {
		Ready       bool                 `json:"ready"`
		Connections map[string]ConnState `json:"connections"`
	}
	var got readyz
	waitFor(t, 10*time.Second, "/readyz to show the socket mode retrying", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		got = readyz{}
		return json.NewDecoder(resp.Body).Decode(&got) == nil && got.Connections["slack_socket_mode"].State == "retrying"
	})
	c := got.Connections["slack_socket_mode"]
	if !got.Ready || !strings.Contains(c.Error, "127.0.0.1:1") || c.NextRetry == nil || strings.Contains(c.Error, "ticket") {
		t.Errorf("/readyz = %+v, want ready, the refused address, a next retry and no ticket", got)
	}
}
