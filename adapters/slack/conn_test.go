package slack

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// syncBuffer is a log buffer safe for the adapter's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type connReport struct {
	state   string
	err     error
	retryIn time.Duration
}

// TestSocketModeRefusedConnectionIsReported runs Socket Mode against a
// fake Slack whose apps.connections.open hands out a URL where nothing
// listens: each refusal is logged with its reason and the next retry, and
// reported as retrying; the ticket in the URL never shows.
func TestSocketModeRefusedConnectionIsReported(t *testing.T) {
	fs := newFakeSlack(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reports := make(chan connReport, 100)
	a, err := New(Params{
		Engine: commands.NewRouter(logger),
		API:    fs.client(),
		Logger: logger,
		OnConnection: func(state string, err error, retryIn time.Duration) {
			select {
			case reports <- connReport{state, err, retryIn}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	api := slackgo.New("xoxb-test-token", slackgo.OptionAPIURL(fs.srv.URL+"/api/"), slackgo.OptionAppLevelToken("xapp-1-test"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.RunSocketMode(ctx, NewSocketClient(api, logger)) }()

	var retrying connReport
	timeout := time.After(10 * time.Second)
	for retrying.state == "" {
		select {
		case r := <-reports:
			if r.state == ConnRetrying {
				retrying = r
			}
		case <-timeout:
			t.Fatalf("no retrying report within 10s; logs:\n%s", logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunSocketMode after cancel = %v, want nil", err)
	}
	if retrying.err == nil || !strings.Contains(retrying.err.Error(), "127.0.0.1:1") || retrying.retryIn <= 0 {
		t.Errorf("retrying report = %+v, want the refused address and a wait", retrying)
	}
	out := logs.String()
	if !strings.Contains(out, "slack socket mode connection failed") || !strings.Contains(out, "retry_in_s=") || !strings.Contains(out, "127.0.0.1:1") {
		t.Errorf("logs lack the failure, its reason and the next retry:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t-ticket") || strings.Contains(retrying.err.Error(), "s3cr3t-ticket") {
		t.Errorf("the Socket Mode ticket leaked:\n%s", out)
	}
}
