// Package oncall asks PagerDuty and Opsgenie who is on call now for the
// rotation an entity's on-call annotation names. Client implements
// commands.OnCallSource.
//
// It knows the two vendors' APIs only: it never imports the catalog's
// store, an adapter or bot.
package oncall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/portalbot/portalbot/commands"
)

// The annotations Client answers for, as Backstage's PagerDuty and
// Opsgenie plugins define them.
const (
	AnnotationPagerDutyService     = "pagerduty.com/service-id"
	AnnotationPagerDutyIntegration = "pagerduty.com/integration-key"
	AnnotationOpsgenieTeam         = "opsgenie.com/team"
)

// Default API base URLs. PagerDuty's EU service region has its own
// (https://api.eu.pagerduty.com), as has Opsgenie's EU instance
// (https://api.eu.opsgenie.com, per its Who is On Call API documentation).
const (
	DefaultPagerDutyURL = "https://api.pagerduty.com"
	DefaultOpsgenieURL  = "https://api.opsgenie.com"
)

// Bounds on what one lookup may cost.
const (
	// fetchTimeout bounds one lookup (two or three requests), whoever
	// waits for it; callers bound their own wait with their ctx.
	fetchTimeout = 10 * time.Second
	// maxResponseBytes bounds one response body: an on-call list is a
	// few kilobytes, and a hostile or broken server must not make the bot
	// buffer without limit.
	maxResponseBytes = 1 << 20
	// answerTTL is how long an answer is reused: shifts change on the
	// hour at the finest, and a busy channel asking about the same
	// service must not spend the API's rate limit (PagerDuty allows 960
	// REST requests a minute per account).
	answerTTL = time.Minute
	// failureTTL is how long a failure is reused, so that an outage is
	// not hammered by every question.
	failureTTL = 15 * time.Second
	// maxCached bounds the cache; past it, expired answers are dropped,
	// then arbitrary ones.
	maxCached = 512
)

// Secret is an API token. It prints and logs as "[redacted]".
type Secret string

// String keeps the token out of formatted output.
func (Secret) String() string { return "[redacted]" }

// LogValue keeps the token out of logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Params configure a Client. Every field may be zero.
type Params struct {
	// PagerDutyToken is a PagerDuty REST API key (read-only is enough);
	// empty answers PagerDuty annotations with a UserError saying so.
	PagerDutyToken Secret
	// PagerDutyURL is the REST API base URL; empty means DefaultPagerDutyURL.
	PagerDutyURL string
	// OpsgenieKey is an Opsgenie API integration key; empty answers
	// Opsgenie annotations with a UserError saying so.
	OpsgenieKey Secret
	// OpsgenieURL is the API base URL; empty means DefaultOpsgenieURL.
	OpsgenieURL string
	// HTTPClient makes the requests; nil means a client with a
	// fetchTimeout timeout.
	HTTPClient *http.Client
	// Now is the cache's clock; nil means time.Now.
	Now func() time.Time
}

// Client answers commands.OnCallSource from PagerDuty's REST API v2 and
// Opsgenie's Who is On Call API, caching answers for a minute. It is safe
// for concurrent use.
type Client struct {
	pd     pagerDuty
	og     opsgenie
	now    func() time.Time
	flight singleflight.Group

	mu    sync.Mutex
	cache map[string]cached // guarded by mu
}

type cached struct {
	now OnCallNow
	err error
	exp time.Time
}

// OnCallNow is commands.OnCallNow, named here for brevity.
type OnCallNow = commands.OnCallNow

var _ commands.OnCallSource = (*Client)(nil)

// New returns a Client for p.
func New(p Params) *Client {
	hc := p.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: fetchTimeout}
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		pd:    pagerDuty{api: api{base: baseURL(p.PagerDutyURL, DefaultPagerDutyURL), auth: authHeader("Token token=", p.PagerDutyToken), client: hc, name: "PagerDuty", accept: pdVersion}},
		og:    opsgenie{api: api{base: baseURL(p.OpsgenieURL, DefaultOpsgenieURL), auth: authHeader("GenieKey ", p.OpsgenieKey), client: hc, name: "Opsgenie"}},
		now:   now,
		cache: map[string]cached{},
	}
}

func baseURL(s, def string) string {
	if s = strings.TrimRight(strings.TrimSpace(s), "/"); s == "" {
		return def
	}
	return s
}

func authHeader(scheme string, s Secret) Secret {
	if s == "" {
		return ""
	}
	return Secret(scheme + string(s))
}

// OnCall implements commands.OnCallSource for the annotations
// AnnotationPagerDutyService, AnnotationPagerDutyIntegration and
// AnnotationOpsgenieTeam. Concurrent questions about the same rotation
// share one lookup, and answers are reused for a minute (failures for 15
// seconds). The lookup runs to fetchTimeout even when ctx ends first, so
// that the next asker finds its answer.
func (c *Client) OnCall(ctx context.Context, key, v string) (OnCallNow, error) {
	var fetch func(context.Context, string) (OnCallNow, error)
	switch key {
	case AnnotationPagerDutyService:
		fetch = c.pd.byService
	case AnnotationPagerDutyIntegration:
		fetch = c.pd.byIntegrationKey
	case AnnotationOpsgenieTeam:
		fetch = c.og.byTeam
	default:
		return OnCallNow{}, fmt.Errorf("oncall: annotation %s: %w", key, commands.Userf("no on-call service answers for %s", key))
	}
	id := key + "\x00" + v
	if e, ok := c.lookup(id); ok {
		return e.now, e.err
	}
	ch := c.flight.DoChan(id, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		now, err := fetch(fctx, v)
		ttl := answerTTL
		if err != nil {
			ttl = failureTTL
		}
		c.store(id, cached{now: now, err: err, exp: c.now().Add(ttl)})
		return now, err
	})
	select {
	case res := <-ch:
		now, _ := res.Val.(OnCallNow) // a nil Val (an error) leaves the zero value
		return now, res.Err
	case <-ctx.Done():
		return OnCallNow{}, fmt.Errorf("oncall: %w", ctx.Err())
	}
}

func (c *Client) lookup(id string) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[id]
	if !ok || !c.now().Before(e.exp) {
		return cached{}, false
	}
	return e, true
}

func (c *Client) store(id string, e cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxCached {
		now := c.now()
		for k, old := range c.cache {
			if !now.Before(old.exp) {
				delete(c.cache, k)
			}
		}
		for k := range c.cache {
			if len(c.cache) < maxCached {
				break
			}
			delete(c.cache, k)
		}
	}
	c.cache[id] = e
}

// api is one provider's HTTP API.
type api struct {
	base   string
	auth   Secret // the whole Authorization header; "" when no token is set
	client *http.Client
	name   string // "PagerDuty", for messages
	accept string // Accept header; "" means application/json
}

// errNoToken is the UserError answered when a provider has no token.
func (a api) errNoToken() error {
	return commands.Userf("no %s API token is configured on this bot", a.name)
}

// get fetches base+path into out. Answers meant for the asker (refused
// token, not found, rate limited) are UserError; their detail is logged by
// the caller through the wrapped error.
func (a api) get(ctx context.Context, path string, out any) error {
	if a.auth == "" {
		return a.errNoToken()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", string(a.auth))
	accept := a.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	resp, err := a.client.Do(req)
	if err != nil {
		return scrub(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("answer larger than %d bytes", maxResponseBytes)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: %w", resp.Status, commands.Userf("%s refused the bot's API token (%s)", a.name, resp.Status))
	case resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w", resp.Status, commands.Userf("%s is rate-limiting the bot; try again in a minute", a.name))
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w", resp.Status, errNotFound)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("%s: %s", resp.Status, abbrev(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// scrub keeps URLs out of transport errors: a query may hold an
// integration key, which triggers incidents and must not reach a log.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := "the API"
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return fmt.Errorf("%s %s: %w", ue.Op, host, ue.Err)
	}
	return err
}

// errNotFound is a 404; callers turn it into a UserError naming what is
// missing.
var errNotFound = errors.New("not found")

// abbrev shortens an error body for an error message.
func abbrev(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
