package bot

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// serveInProcess runs Serve with cfg and the environment variables env in
// this process until the test ends, and returns its base URL once it
// listens.
func serveInProcess(t *testing.T, cfg Config, env map[string]string) string {
	t.Helper()
	addr := make(chan string, 1)
	e := &Env{Getenv: func(k string) string { return env[k] }, Logger: slog.New(slog.DiscardHandler), OnListen: func(a string) { addr <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, e) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("Serve ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not listen within 10s")
	}
	return ""
}
