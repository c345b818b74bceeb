package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
)

func TestSlackPartsFromEnv(t *testing.T) {
	var authTests atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/auth.test":
			authTests.Add(1)
			io.WriteString(w, `{"ok":true,"user_id":"UBOT","bot_id":"BBOT"}`)
		default:
			io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
		}
	}))
	defer fake.Close()
	base := map[string]string{
		"SLACK_BOT_TOKEN":         "xoxb-test",
		"SLACK_SIGNING_SECRET":    "shh",
		"PORTALBOT_SLACK_API_URL": fake.URL + "/api",
	}
	build := func(env map[string]string) (*App, []Part, error) {
		r := commands.NewRouter(slog.New(slog.DiscardHandler))
		r.Handle(commands.Command{Name: "ping", Summary: "answers pong", Handler: func(context.Context, *commands.Request) (commands.Reply, error) {
			return commands.Reply{Text: "pong"}, nil
		}})
		a := &App{
			Env:     &Env{Getenv: func(k string) string { return env[k] }},
			Logger:  slog.New(slog.DiscardHandler),
			Router:  r,
			Mux:     http.NewServeMux(),
			Posters: map[string]commands.Poster{},
		}
		parts, err := slackParts(context.Background(), a)
		return a, parts, err
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k2, v2 := range base {
			m[k2] = v2
		}
		m[k] = v
		return m
	}

	t.Run("off without a token", func(t *testing.T) {
		a, parts, err := build(map[string]string{})
		if err != nil || parts != nil || a.Posters["slack"] != nil {
			t.Errorf("slackParts(no env) = %v, %v; want nothing", parts, err)
		}
	})
	for _, tt := range []struct{ name, key, value string }{
		{"secret without token", "SLACK_BOT_TOKEN", ""},
		{"token without secret or app token", "SLACK_SIGNING_SECRET", ""},
		{"bad api url", "PORTALBOT_SLACK_API_URL", "not a url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := build(with(tt.key, tt.value)); err == nil {
				t.Errorf("slackParts(%s=%q) = nil error, want one", tt.key, tt.value)
			}
		})
	}
	t.Run("http endpoints and poster", func(t *testing.T) {
		a, parts, err := build(base)
		if err != nil {
			t.Fatalf("slackParts() = %v", err)
		}
		if len(parts) != 1 || a.Posters["slack"] == nil {
			t.Fatalf("slackParts() = %d parts, poster %v; want 1 part and a poster", len(parts), a.Posters["slack"])
		}
		if authTests.Load() == 0 {
			t.Errorf("auth.test was not called to learn the bot user id")
		}
		body := url.Values{"command": {"/portal"}, "text": {"ping"}, "user_id": {"U1"}, "channel_id": {"C1"}}.Encode()
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte("shh"))
		io.WriteString(mac, "v0:"+ts+":"+body)
		for _, sig := range []string{"v0=" + hex.EncodeToString(mac.Sum(nil)), "v0=" + strings.Repeat("0", 64)} {
			req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", sig)
			rec := httptest.NewRecorder()
			a.Mux.ServeHTTP(rec, req)
			good := !strings.HasSuffix(sig, strings.Repeat("0", 64))
			switch {
			case good && (rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "pong")):
				t.Errorf("signed /slack/commands = %d %s, want 200 with pong", rec.Code, rec.Body)
			case !good && rec.Code != http.StatusUnauthorized:
				t.Errorf("forged /slack/commands = %d, want 401", rec.Code)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := parts[0](ctx); err != nil {
			t.Errorf("slack part after cancel = %v, want nil", err)
		}
	})
	t.Run("socket mode only", func(t *testing.T) {
		a, parts, err := build(map[string]string{"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test", "PORTALBOT_SLACK_API_URL": fake.URL + "/api/"})
		if err != nil || len(parts) != 2 {
			t.Fatalf("slackParts(socket mode) = %d parts, %v; want 2 parts", len(parts), err)
		}
		rec := httptest.NewRecorder()
		a.Mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slack/commands", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("POST /slack/commands without a signing secret = %d, want 404 (not served)", rec.Code)
		}
	})
}
