package commands_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
)

// fakeOnCall is an OnCallSource whose answer is a function; it records the
// annotations it was asked about.
type fakeOnCall struct {
	mu    sync.Mutex
	asked []string // "key=value", guarded by mu
	fn    func(ctx context.Context, key, v string) (commands.OnCallNow, error)
}

func (f *fakeOnCall) OnCall(ctx context.Context, key, v string) (commands.OnCallNow, error) {
	f.mu.Lock()
	f.asked = append(f.asked, key+"="+v)
	f.mu.Unlock()
	return f.fn(ctx, key, v)
}

func TestOncallNow(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, st)
	until := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	people := commands.OnCallNow{
		Rotation: "PagerDuty escalation policy Payments",
		URL:      "https://acme.pagerduty.com/escalation_policies/PEP1",
		People: []commands.OnCallPerson{
			{Name: "Ada Lovelace", Email: "ada@example.com", URL: "https://acme.pagerduty.com/users/PU1", Level: 1, Until: until},
			{Name: "Ada Lovelace", Email: "ada@example.com", Level: 1}, // a second schedule on the same level
			{Name: "Grace Hopper", Email: "grace@example.com", URL: "javascript:alert(1)", Level: 2},
		},
	}
	tests := []struct {
		name string
		in   string
		fn   func(ctx context.Context, key, v string) (commands.OnCallNow, error)
		// asked is the annotation the source must be asked about.
		asked string
		replyCase
	}{
		{
			name: "people on call", in: "oncall payments-api", asked: "pagerduty.com/service-id=PCOMP42",
			fn: func(context.Context, string, string) (commands.OnCallNow, error) { return people, nil },
			replyCase: replyCase{
				fields: map[string]string{
					"On call now":        "Ada Lovelace (ada@example.com), until Fri 4 Dec 18:00 UTC",
					"Escalation level 2": "Grace Hopper (grace@example.com)",
					"PagerDuty service":  "PCOMP42",
				},
				urls: map[string]string{"On call now": "https://acme.pagerduty.com/users/PU1", "Escalation level 2": ""},
				want: []string{"Who is on call now, from PagerDuty escalation policy Payments (https://acme.pagerduty.com/escalation_policies/PEP1)."},
				not:  []string{"javascript:"},
			},
		},
		{
			name: "owner's rotation", in: "oncall worker-42", asked: "opsgenie.com/team=checkout-oncall",
			fn: func(context.Context, string, string) (commands.OnCallNow, error) {
				return commands.OnCallNow{Rotation: "Opsgenie schedule checkout_schedule", People: []commands.OnCallPerson{{Name: "bob@example.com", Email: "bob@example.com"}}}, nil
			},
			replyCase: replyCase{
				fields: map[string]string{"On call now": "bob@example.com", "Opsgenie team": "checkout-oncall"},
				want:   []string{"names no on-call rotation itself", "Who is on call now, from Opsgenie schedule checkout_schedule."},
			},
		},
		{
			name: "integration key asked, never shown", in: "oncall component:search", asked: "pagerduty.com/integration-key=s3cr3t-integration-key-value",
			fn: func(context.Context, string, string) (commands.OnCallNow, error) { return people, nil },
			replyCase: replyCase{
				fields: map[string]string{"On call now": "Ada Lovelace (ada@example.com), until Fri 4 Dec 18:00 UTC"},
				not:    []string{"s3cr3t"},
			},
		},
		{
			name: "nobody on call", in: "oncall payments-api", asked: "pagerduty.com/service-id=PCOMP42",
			fn: func(context.Context, string, string) (commands.OnCallNow, error) {
				return commands.OnCallNow{Rotation: "PagerDuty escalation policy Payments"}, nil
			},
			replyCase: replyCase{want: []string{"Nobody is on call now in PagerDuty escalation policy Payments."}, not: []string{"On call now\""},
				fields: map[string]string{"PagerDuty service": "PCOMP42"}},
		},
		{
			name: "user error says why, keeps the link", in: "oncall payments-api", asked: "pagerduty.com/service-id=PCOMP42",
			fn: func(context.Context, string, string) (commands.OnCallNow, error) {
				return commands.OnCallNow{}, fmt.Errorf("pagerduty: %w", commands.Userf("no PagerDuty API token is configured."))
			},
			replyCase: replyCase{
				want:   []string{"I couldn't ask PagerDuty who is on call now: no PagerDuty API token is configured. The rotation is linked below."},
				fields: map[string]string{"PagerDuty service": "PCOMP42"},
				urls:   map[string]string{"PagerDuty service": "https://app.pagerduty.com/service-directory/PCOMP42"},
			},
		},
		{
			name: "other errors are not shown", in: "oncall payments-api", asked: "pagerduty.com/service-id=PCOMP42",
			fn: func(context.Context, string, string) (commands.OnCallNow, error) {
				return commands.OnCallNow{}, errors.New("dial tcp 10.0.0.7:443: connection refused")
			},
			replyCase: replyCase{
				want: []string{"PagerDuty did not answer (the error was logged)", "Runbook"},
				not:  []string{"10.0.0.7"},
			},
		},
		{
			name: "a hung provider is cut off", in: "oncall payments-api", asked: "pagerduty.com/service-id=PCOMP42",
			fn: func(ctx context.Context, _, _ string) (commands.OnCallNow, error) {
				if _, ok := ctx.Deadline(); !ok {
					return commands.OnCallNow{}, errors.New("no deadline on the lookup")
				}
				return commands.OnCallNow{}, fmt.Errorf("pagerduty: %w", context.DeadlineExceeded)
			},
			replyCase: replyCase{want: []string{"PagerDuty did not answer within 5s"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeOnCall{fn: tt.fn}
			r := commands.New(commands.Params{Store: st, PortalURL: portal, OnCall: src})
			tt.replyCase.in = tt.in
			tt.replyCase.check(t, r)
			if len(src.asked) != 1 || src.asked[0] != tt.asked {
				t.Errorf("Serve(%q) asked the source about %q, want [%q]", tt.in, src.asked, tt.asked)
			}
		})
	}

	t.Run("no rotation annotation, no lookup", func(t *testing.T) {
		src := &fakeOnCall{fn: func(context.Context, string, string) (commands.OnCallNow, error) { return people, nil }}
		r := commands.New(commands.Params{Store: st, PortalURL: portal, OnCall: src})
		rep := ask(r, "oncall lonely-tool")
		if len(src.asked) != 0 {
			t.Errorf("Serve(oncall lonely-tool) asked the source about %q, want nothing", src.asked)
		}
		if _, ok := field(rep, "On call now"); ok {
			t.Errorf("Serve(oncall lonely-tool) = %s, want no On call now field", flat(rep))
		}
	})
	t.Run("no source says so", func(t *testing.T) {
		rep := ask(commands.New(commands.Params{Store: st, PortalURL: portal}), "oncall payments-api")
		want := "Live on-call lookups are not set up on this bot"
		if got := flat(rep); !strings.Contains(got, want) {
			t.Errorf("Serve(oncall payments-api) = %s, want %q", got, want)
		}
	})
}
