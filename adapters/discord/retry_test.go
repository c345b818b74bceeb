package discord_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/adapters/discord"
)

// TestRegisterErrorNamesRealHost registers against an API URL where
// nothing listens: the error names that host, not discord.com, whose URL
// discordgo built before the transport redirected it.
func TestRegisterErrorNamesRealHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	s, err := discord.NewSession(discord.SessionConfig{Token: "test-token", APIURL: "http://" + host + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := discord.New(discord.Params{Engine: newTestEngine(t), Session: s, AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Register(context.Background())
	if err == nil {
		t.Fatal("Register against a closed port = nil error")
	}
	if msg := err.Error(); !strings.Contains(msg, "Put "+host+":") || strings.Contains(msg, "discord.com") {
		t.Errorf("Register error = %q, want it to name %s and not discord.com", msg, host)
	}
}

// flakyDiscord answers the guild command overwrite with status for the
// first fails calls, then accepts it; it counts the calls.
func flakyDiscord(t *testing.T, status, fails int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/api/v9/applications/"+testAppID+"/guilds/777/commands" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if n := calls.Add(1); int(n) <= fails {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"message": "%d: %s", "code": 0}`, status, http.StatusText(status))
			return
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `[]`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRunRegisterRetries(t *testing.T) {
	tests := []struct {
		name          string
		status, fails int
		wantErr       bool
		wantCalls     int32
	}{
		{"unavailable, then registered", http.StatusServiceUnavailable, 3, false, 4},
		{"rate limited, then registered", http.StatusTooManyRequests, 1, false, 2},
		{"wrong token is not retried", http.StatusUnauthorized, 99, true, 1},
		{"refused command is not retried", http.StatusBadRequest, 99, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := flakyDiscord(t, tt.status, tt.fails)
			s, err := discord.NewSession(discord.SessionConfig{Token: "test-token", APIURL: srv.URL + "/api"})
			if err != nil {
				t.Fatal(err)
			}
			s.MaxRestRetries = 0
			a, err := discord.New(discord.Params{Engine: newTestEngine(t), Session: s, AppID: testAppID, GuildID: "777", RegisterBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			err = a.RunRegister(context.Background())
			if (err != nil) != tt.wantErr {
				t.Errorf("RunRegister = %v, want error %v", err, tt.wantErr)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("RunRegister made %d calls, want %d", got, tt.wantCalls)
			}
		})
	}

	t.Run("ends with ctx", func(t *testing.T) {
		srv, calls := flakyDiscord(t, http.StatusServiceUnavailable, 1<<30)
		s, _ := discord.NewSession(discord.SessionConfig{Token: "test-token", APIURL: srv.URL + "/api"})
		s.MaxRestRetries = 0
		a, err := discord.New(discord.Params{Engine: newTestEngine(t), Session: s, AppID: testAppID, GuildID: "777", RegisterBackoff: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.RunRegister(ctx) }()
		for calls.Load() == 0 {
			time.Sleep(time.Millisecond) // poll until the first attempt failed
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("RunRegister after cancel = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("RunRegister did not return when ctx ended")
		}
	})
}
