package bot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
)

func TestDiscordPartsFromEnv(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]string{
		"DISCORD_BOT_TOKEN":         "test-token",
		"DISCORD_APP_ID":            "424242",
		"DISCORD_PUBLIC_KEY":        hex.EncodeToString(pub),
		"PORTALBOT_DISCORD_GATEWAY": "off",
		"PORTALBOT_DISCORD_API_URL": "http://127.0.0.1:1/api",
	}
	build := func(env map[string]string) (*App, []Part, error) {
		a := &App{
			Env:     &Env{Getenv: func(k string) string { return env[k] }},
			Logger:  slog.New(slog.DiscardHandler),
			Router:  commands.NewRouter(slog.New(slog.DiscardHandler)),
			Mux:     http.NewServeMux(),
			Posters: map[string]commands.Poster{},
		}
		parts, err := discordParts(context.Background(), a)
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
		if err != nil || parts != nil || a.Posters["discord"] != nil {
			t.Errorf("discordParts(no env) = %v, %v, poster %v; want nothing", parts, err, a.Posters["discord"])
		}
	})
	for _, tt := range []struct{ name, key, value string }{
		{"no app id", "DISCORD_APP_ID", ""},
		{"bad public key", "DISCORD_PUBLIC_KEY", "abcd"},
		{"bad gateway value", "PORTALBOT_DISCORD_GATEWAY", "maybe"},
		{"bad api url", "PORTALBOT_DISCORD_API_URL", "ftp://x"},
		{"bad shard id", "PORTALBOT_DISCORD_SHARD_ID", "one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := build(with(tt.key, tt.value)); err == nil {
				t.Errorf("discordParts(%s=%q) = nil error, want one", tt.key, tt.value)
			}
		})
	}
	t.Run("token without app id names it", func(t *testing.T) {
		_, _, err := build(with("DISCORD_BOT_TOKEN", ""))
		if err == nil || !strings.Contains(err.Error(), "DISCORD_BOT_TOKEN") {
			t.Errorf("discordParts(app id, no token) = %v, want an error naming DISCORD_BOT_TOKEN", err)
		}
	})

	t.Run("http endpoint and poster", func(t *testing.T) {
		a, parts, err := build(base)
		if err != nil {
			t.Fatalf("discordParts: %v", err)
		}
		if len(parts) != 1 {
			t.Errorf("%d parts, want 1 (no gateway)", len(parts))
		}
		if a.Posters["discord"] == nil {
			t.Error("no discord poster")
		}
		srv := httptest.NewServer(a.Mux)
		defer srv.Close()
		body := []byte(`{"id":"1","application_id":"424242","type":1,"token":"t","version":1}`)
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		for _, key := range []ed25519.PrivateKey{priv, nil} {
			signer := priv
			if key == nil {
				_, signer, _ = ed25519.GenerateKey(rand.Reader)
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/discord/interactions", bytes.NewReader(body))
			req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(signer, append([]byte(stamp), body...))))
			req.Header.Set("X-Signature-Timestamp", stamp)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body) // compared below
			resp.Body.Close()
			if key != nil && (resp.StatusCode != http.StatusOK || strings.TrimSpace(string(got)) != `{"type":1}`) {
				t.Errorf("signed PING = %d %s, want 200 {\"type\":1}", resp.StatusCode, got)
			}
			if key == nil && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("forged PING = %d, want 401", resp.StatusCode)
			}
		}
	})
	t.Run("gateway on adds a part", func(t *testing.T) {
		_, parts, err := build(with("PORTALBOT_DISCORD_GATEWAY", "on"))
		if err != nil || len(parts) != 2 {
			t.Errorf("discordParts(gateway on) = %d parts, %v; want 2", len(parts), err)
		}
	})
}
