package oncall_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/oncall"
)

const (
	pdToken = "pd-test-token"
	ogKey   = "og-test-key"
)

// fakeAPI serves the documented answers of PagerDuty's REST API v2 and
// Opsgenie's schedule API from testdata, checking the authorization each
// expects, and counts the requests it answered.
type fakeAPI struct {
	t        *testing.T
	requests atomic.Int32
	// status, when set, answers every request with it.
	status int
	// gate, when set, holds every answer until it is closed.
	gate chan struct{}
	mu   sync.Mutex
	urls []string // request URIs, guarded by mu
}

func newFakeAPI(t *testing.T) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.mu.Lock()
	f.urls = append(f.urls, r.URL.RequestURI())
	f.mu.Unlock()
	if f.gate != nil {
		<-f.gate
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		w.Write([]byte(`{"error":{"message":"Access Denied","code":2010}}`))
		return
	}
	q := r.URL.Query()
	var file string
	switch {
	case strings.HasPrefix(r.URL.Path, "/pd/"):
		if got := r.Header.Get("Authorization"); got != "Token token="+pdToken {
			http.Error(w, `{"error":{"message":"Unauthorized","code":2006}}`, http.StatusUnauthorized)
			return
		}
		if got := r.Header.Get("Accept"); got != "application/vnd.pagerduty+json;version=2" {
			f.t.Errorf("PagerDuty request Accept = %q, want the v2 media type", got)
		}
		switch r.URL.Path {
		case "/pd/services/PCOMP42":
			file = "pagerduty_service.json"
		case "/pd/services":
			if q.Get("query") == "" || q.Get("include[]") != "integrations" {
				f.t.Errorf("GET /services query = %v, want query and include[]=integrations", q)
			}
			file = "pagerduty_services_query.json"
		case "/pd/oncalls":
			if got := q["escalation_policy_ids[]"]; len(got) != 1 || got[0] != "PEP1" {
				f.t.Errorf("GET /oncalls escalation_policy_ids[] = %q, want [PEP1]", got)
			}
			file = "pagerduty_oncalls.json"
		default:
			http.Error(w, `{"error":{"message":"Not Found","code":2100}}`, http.StatusNotFound)
			return
		}
	case strings.HasPrefix(r.URL.Path, "/og/"):
		if got := r.Header.Get("Authorization"); got != "GenieKey "+ogKey {
			http.Error(w, `{"message":"Could not authenticate","took":0.0,"requestId":"x"}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/og/v2/schedules":
			file = "opsgenie_schedules.json"
		case "/og/v2/schedules/c1a4e0b2-5d7f-4e3a-9b8c-2f6d1e0a9b7c/on-calls":
			file = "opsgenie_oncalls.json"
		default:
			http.Error(w, `{"message":"Schedule not found","took":0.0,"requestId":"x"}`, http.StatusNotFound)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		f.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

func newClient(srv *httptest.Server, now func() time.Time) *oncall.Client {
	return oncall.New(oncall.Params{
		PagerDutyToken: pdToken, PagerDutyURL: srv.URL + "/pd/",
		OpsgenieKey: ogKey, OpsgenieURL: srv.URL + "/og",
		Now: now,
	})
}

func TestOnCall(t *testing.T) {
	_, srv := newFakeAPI(t)
	c := newClient(srv, nil)
	pd := commands.OnCallNow{
		Rotation: "PagerDuty escalation policy Payments",
		URL:      "https://acme.pagerduty.com/escalation_policies/PEP1",
		People: []commands.OnCallPerson{
			{Name: "Ada Lovelace", Email: "ada@example.com", URL: "https://acme.pagerduty.com/users/PU1", Level: 1, Until: time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)},
			{Name: "Grace Hopper", Email: "grace@example.com", URL: "https://acme.pagerduty.com/users/PU2", Level: 2, Until: time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)},
			{Name: "Lin Manager", Email: "lin@example.com", URL: "https://acme.pagerduty.com/users/PU3", Level: 3},
		},
	}
	tests := []struct {
		key, v string
		want   commands.OnCallNow
	}{
		{oncall.AnnotationPagerDutyService, "PCOMP42", pd},
		{oncall.AnnotationPagerDutyIntegration, "s3cr3t-integration-key-value", pd},
		{oncall.AnnotationOpsgenieTeam, "Checkout-Oncall", commands.OnCallNow{
			Rotation: "Opsgenie schedule checkout_schedule",
			People: []commands.OnCallPerson{
				{Name: "bob@example.com", Email: "bob@example.com"},
				{Name: "carol@example.com", Email: "carol@example.com"},
			},
		}},
	}
	for _, tt := range tests {
		got, err := c.OnCall(context.Background(), tt.key, tt.v)
		if err != nil {
			t.Errorf("OnCall(%q, %q) error = %v", tt.key, tt.v, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("OnCall(%q, %q) mismatch (-want +got):\n%s", tt.key, tt.v, diff)
		}
	}
}

func TestOnCallErrors(t *testing.T) {
	tests := []struct {
		name   string
		params func(srv *httptest.Server) oncall.Params
		status int
		key, v string
		// user is the UserError's message; "" means the error is not one.
		user string
		// calls is how many requests the lookup may make.
		calls int32
	}{
		{name: "no PagerDuty token", params: func(srv *httptest.Server) oncall.Params { return oncall.Params{PagerDutyURL: srv.URL + "/pd"} },
			key: oncall.AnnotationPagerDutyService, v: "PCOMP42", user: "no PagerDuty API token is configured on this bot"},
		{name: "no Opsgenie key", params: func(srv *httptest.Server) oncall.Params { return oncall.Params{OpsgenieURL: srv.URL + "/og"} },
			key: oncall.AnnotationOpsgenieTeam, v: "checkout-oncall", user: "no Opsgenie API token is configured on this bot"},
		{name: "token refused", params: func(srv *httptest.Server) oncall.Params {
			return oncall.Params{PagerDutyToken: "wrong", PagerDutyURL: srv.URL + "/pd"}
		}, key: oncall.AnnotationPagerDutyService, v: "PCOMP42", user: "PagerDuty refused the bot's API token (401 Unauthorized)", calls: 1},
		{name: "unknown service", key: oncall.AnnotationPagerDutyService, v: "PNOPE", user: "PagerDuty has no service PNOPE", calls: 1},
		{name: "unknown integration key, never named", key: oncall.AnnotationPagerDutyIntegration, v: "deadbeef",
			user: "PagerDuty has no service with the integration key this entity names", calls: 1},
		{name: "team without schedule", key: oncall.AnnotationOpsgenieTeam, v: "growth", user: "Opsgenie has no enabled schedule owned by team growth", calls: 1},
		{name: "rate limited", status: http.StatusTooManyRequests, key: oncall.AnnotationOpsgenieTeam, v: "payments",
			user: "Opsgenie is rate-limiting the bot; try again in a minute", calls: 1},
		{name: "server error is not for users", status: http.StatusBadGateway, key: oncall.AnnotationPagerDutyService, v: "PCOMP42", calls: 1},
		{name: "unknown annotation", key: "splunk.com/on-call-team", v: "x", user: "no on-call service answers for splunk.com/on-call-team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeAPI(t)
			f.status = tt.status
			p := oncall.Params{PagerDutyToken: pdToken, PagerDutyURL: srv.URL + "/pd", OpsgenieKey: ogKey, OpsgenieURL: srv.URL + "/og"}
			if tt.params != nil {
				p = tt.params(srv)
			}
			_, err := oncall.New(p).OnCall(context.Background(), tt.key, tt.v)
			if err == nil {
				t.Fatalf("OnCall(%q, %q) = nil error, want one", tt.key, tt.v)
			}
			var ue *commands.UserError
			switch {
			case tt.user == "" && errors.As(err, &ue):
				t.Errorf("OnCall(%q, %q) error = %v, a UserError; want an error for the log", tt.key, tt.v, err)
			case tt.user != "" && (!errors.As(err, &ue) || ue.Msg != tt.user):
				t.Errorf("OnCall(%q, %q) error = %v, want UserError %q", tt.key, tt.v, err, tt.user)
			}
			if strings.Contains(err.Error(), "deadbeef") || strings.Contains(err.Error(), pdToken) {
				t.Errorf("OnCall(%q, %q) error = %v, names a secret", tt.key, tt.v, err)
			}
			if got := f.requests.Load(); got != tt.calls {
				t.Errorf("OnCall(%q, %q) made %d requests, want %d", tt.key, tt.v, got, tt.calls)
			}
		})
	}
}

func TestOnCallCache(t *testing.T) {
	f, srv := newFakeAPI(t)
	var mu sync.Mutex
	now := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newClient(srv, clock)
	ask := func() {
		t.Helper()
		if _, err := c.OnCall(context.Background(), oncall.AnnotationPagerDutyService, "PCOMP42"); err != nil {
			t.Fatalf("OnCall: %v", err)
		}
	}
	ask()
	if got := f.requests.Load(); got != 2 {
		t.Fatalf("first lookup made %d requests, want 2 (service, on-calls)", got)
	}
	advance(59 * time.Second)
	ask()
	if got := f.requests.Load(); got != 2 {
		t.Errorf("lookup within a minute made %d requests in all, want the cached answer (2)", got)
	}
	advance(2 * time.Second)
	ask()
	if got := f.requests.Load(); got != 4 {
		t.Errorf("lookup after a minute made %d requests in all, want 4", got)
	}

	// A failure is reused for 15 s, then asked again.
	f.status = http.StatusBadGateway
	if _, err := c.OnCall(context.Background(), oncall.AnnotationOpsgenieTeam, "checkout-oncall"); err == nil {
		t.Fatal("OnCall during an outage = nil error")
	}
	c.OnCall(context.Background(), oncall.AnnotationOpsgenieTeam, "checkout-oncall")
	if got := f.requests.Load(); got != 5 {
		t.Errorf("a failed lookup asked twice made %d requests in all, want 5", got)
	}
	f.status = 0
	advance(16 * time.Second)
	if _, err := c.OnCall(context.Background(), oncall.AnnotationOpsgenieTeam, "checkout-oncall"); err != nil {
		t.Errorf("OnCall after the outage: %v", err)
	}
}

func TestOnCallSharedAndBounded(t *testing.T) {
	f, srv := newFakeAPI(t)
	f.gate = make(chan struct{})
	c := newClient(srv, nil)

	// Questions asked while the provider is slow share one lookup, and an
	// asker whose ctx ends stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := c.OnCall(ctx, oncall.AnnotationPagerDutyService, "PCOMP42")
			errs <- err
		}()
	}
	for f.requests.Load() == 0 {
		time.Sleep(time.Millisecond) // poll until the lookup reached the server
	}
	cancel()
	for range 4 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("OnCall with a cancelled ctx = %v, want context.Canceled", err)
		}
	}
	close(f.gate)
	// The lookup finished anyway; its answer serves the next asker.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.OnCall(context.Background(), oncall.AnnotationPagerDutyService, "PCOMP42")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OnCall after the provider answered: %v", err)
		}
	}
	if got := f.requests.Load(); got != 2 {
		t.Errorf("5 questions made %d requests, want 2 (one lookup)", got)
	}
}

func TestOnCallResponseCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"service":{"id":"P","name":"`))
		chunk := strings.Repeat("x", 64<<10)
		for range 20 { // 1.25 MiB
			w.Write([]byte(chunk))
		}
		w.Write([]byte(`"}}`))
	}))
	defer srv.Close()
	c := oncall.New(oncall.Params{PagerDutyToken: pdToken, PagerDutyURL: srv.URL})
	_, err := c.OnCall(context.Background(), oncall.AnnotationPagerDutyService, "P")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("OnCall on a 1.25 MiB answer = %v, want a size error", err)
	}
}

func TestSecretRedacted(t *testing.T) {
	s := oncall.Secret("tok")
	if got := s.String(); got != "[redacted]" {
		t.Errorf("Secret.String() = %q, want [redacted]", got)
	}
	if got := s.LogValue().String(); got != "[redacted]" {
		t.Errorf("Secret.LogValue() = %q, want [redacted]", got)
	}
}

// TestOnCallErrorsHideIntegrationKey looks a service up by integration
// key on a closed port: the transport error names the host, never the
// URL, whose query holds the key (it triggers incidents).
func TestOnCallErrorsHideIntegrationKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // connections are refused from now on
	c := oncall.New(oncall.Params{PagerDutyToken: pdToken, PagerDutyURL: base})
	_, err := c.OnCall(context.Background(), oncall.AnnotationPagerDutyIntegration, "s3cr3t-integration-key-value")
	if err == nil {
		t.Fatal("OnCall against a closed port = nil error")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t") || !strings.Contains(msg, strings.TrimPrefix(base, "http://")) {
		t.Errorf("OnCall error = %q, want the host and not the integration key", msg)
	}
}
