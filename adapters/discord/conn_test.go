package discord_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/adapters/discord"
)

type connReport struct {
	state   string
	err     error
	retryIn time.Duration
}

// TestGatewayStatesReported opens the gateway against the fake Discord,
// which answers GET /gateway with 404: each failure is reported as
// retrying with its reason and wait, and the end as closed. A replica
// without the lease reports standby.
func TestGatewayStatesReported(t *testing.T) {
	reports := make(chan connReport, 100)
	report := func(state string, err error, retryIn time.Duration) {
		select {
		case reports <- connReport{state, err, retryIn}:
		default:
		}
	}
	h := newHarness(t, func(p *discord.Params) { p.OnConnection = report })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.a.RunGateway(ctx) }()
	var got []string
	var retrying connReport
	timeout := time.After(5 * time.Second)
	for retrying.state == "" {
		select {
		case r := <-reports:
			got = append(got, r.state)
			if r.state == discord.ConnRetrying {
				retrying = r
			}
		case <-timeout:
			t.Fatalf("no retrying report within 5s; got %q", got)
		}
	}
	cancel()
	<-done
	if retrying.err == nil || !strings.Contains(retrying.err.Error(), "404") || retrying.retryIn != time.Second {
		t.Errorf("retrying report = %+v, want the 404 and a 1s wait", retrying)
	}
	if got[0] != discord.ConnConnecting {
		t.Errorf("first state %q, want connecting", got[0])
	}
	last := ""
	for len(reports) > 0 {
		last = (<-reports).state
	}
	if last != discord.ConnClosed {
		t.Errorf("last state after cancel = %q, want closed", last)
	}

	l := &leaser{grant: []bool{false}, released: make(chan string, 1)}
	standby := newHarness(t, func(p *discord.Params) { p.Leaser, p.LeaseTTL, p.OnConnection = l, time.Hour, report })
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- standby.a.RunGateway(ctx) }()
	select {
	case r := <-reports:
		if r.state != discord.ConnStandby {
			t.Errorf("replica without the lease reported %q, want standby", r.state)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no report from the replica without the lease")
	}
	cancel()
	<-done
}
