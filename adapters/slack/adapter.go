package slack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// Engine is what the adapter needs of the command engine;
// *commands.Router satisfies it.
type Engine interface {
	Serve(ctx context.Context, req *commands.Request) commands.Reply
	Suggest(ctx context.Context, source, prefix string, limit int) []commands.Option
}

// WebAPI is the part of Slack's Web API the adapter calls; *slackgo.Client
// satisfies it.
type WebAPI interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slackgo.MsgOption) (string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slackgo.MsgOption) (string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slackgo.MsgOption) (string, string, string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slackgo.ModalViewRequest) (*slackgo.ViewResponse, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slackgo.GetUserInfoOption) (*slackgo.User, error)
	UploadFileContext(ctx context.Context, params slackgo.UploadFileParameters) (*slackgo.FileSummary, error)
}

// Deduper remembers keys for a while. Once reports whether key is new, and
// remembers it for ttl; a shared implementation (the SQL store) makes every
// replica answer an event once.
type Deduper interface {
	Once(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// Params are the dependencies of an Adapter.
type Params struct {
	// Engine answers requests; required.
	Engine Engine
	// API calls Slack's Web API; required.
	API WebAPI
	// SigningSecret verifies HTTP requests. Empty means the HTTP routes
	// refuse everything (Socket Mode needs no signing secret).
	SigningSecret string
	// BotUserID is the bot's own user id; messages from it are ignored
	// (besides any message carrying a bot_id). Empty means unknown.
	BotUserID string
	// Dedupe remembers Events API event ids. Nil means an in-memory set,
	// which is not shared across replicas.
	Dedupe Deduper
	// HTTPClient posts to response_url; nil means a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// ResponseURLPrefixes are the URL prefixes a response_url must start
	// with; nil means "https://hooks.slack.com/". Tests set their fake's.
	ResponseURLPrefixes []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ObserveError, when set, is told about every failed Web API or
	// response_url call (call is the method name, "response_url" for
	// hooks), rate-limited ones included, for metrics. It must be fast.
	ObserveError func(call string, err error)
	// Previews answers portal links pasted in messages (link_shared
	// events, unfurled with chat.unfurl when API implements Unfurler);
	// nil unfurls nothing.
	Previews Previewer
	// Home answers app_home_opened events with the person's Home tab,
	// published with views.publish when API implements ViewPublisher;
	// nil publishes nothing.
	Home HomeSource
	// OnConnection, when set, is told each Socket Mode state change
	// (ConnConnecting, ConnConnected, ConnRetrying with the error and the
	// wait before the next attempt, ConnFailed, ConnClosed), for /readyz.
	// It must be fast.
	OnConnection func(state string, err error, retryIn time.Duration)
	// Logger is never nil after New.
	Logger *slog.Logger
}

// Adapter connects Slack to the command engine. Its HTTP handlers and
// Socket Mode loop share the same logic. It is safe for concurrent use.
type Adapter struct {
	engine   Engine
	api      WebAPI
	verifier *Verifier
	botUser  string
	dedupe   Deduper
	http     *http.Client
	prefixes []string
	now      func() time.Time
	logger   *slog.Logger
	poster   *Poster
	emails   *emailCache
	observe  func(call string, err error) // never nil

	// Link previews, the Home tab and connection states; nil turns each off.
	previews  Previewer
	unfurler  Unfurler // nil also when API cannot unfurl
	home      HomeSource
	publisher ViewPublisher // nil also when API cannot publish views
	connState func(state string, err error, retryIn time.Duration)
	// budget is answerBudget and trigger is triggerBudget; tests shorten them.
	budget, trigger time.Duration

	// wg counts background work (late answers, event replies); each
	// piece ends within workTimeout.
	wg sync.WaitGroup
}

// New returns an adapter. It fails when Engine or API is missing.
func New(p Params) (*Adapter, error) {
	if p.Engine == nil || p.API == nil {
		return nil, errors.New("slack adapter: Engine and API are required")
	}
	a := &Adapter{
		engine:   p.Engine,
		api:      p.API,
		verifier: NewVerifier(p.SigningSecret, p.Now),
		botUser:  p.BotUserID,
		dedupe:   p.Dedupe,
		http:     p.HTTPClient,
		prefixes: p.ResponseURLPrefixes,
		now:      p.Now,
		logger:   p.Logger,
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	a.logger = a.logger.With("component", "adapters/slack")
	if a.dedupe == nil {
		a.dedupe = NewMemoryDeduper(p.Now)
	}
	if a.http == nil {
		a.http = &http.Client{Timeout: 10 * time.Second}
	}
	if a.prefixes == nil {
		a.prefixes = []string{"https://hooks.slack.com/"}
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.observe = p.ObserveError
	a.previews = p.Previews
	a.unfurler, _ = p.API.(Unfurler) // fakes without chat.unfurl unfurl nothing
	a.home = p.Home
	a.connState = p.OnConnection
	a.publisher, _ = p.API.(ViewPublisher)
	if a.observe == nil {
		a.observe = func(string, error) {}
	}
	a.budget, a.trigger = answerBudget, triggerBudget
	a.poster = NewPoster(p.API, a.logger)
	a.poster.observe = a.observe
	a.emails = &emailCache{api: p.API, now: a.now, m: map[string]emailEntry{}}
	return a, nil
}

// Poster returns the adapter's poster, for scheduled reports and template
// progress.
func (a *Adapter) Poster() *Poster { return a.poster }

// Register adds the HTTP endpoints to mux: POST /slack/commands,
// /slack/interactions and /slack/events.
func (a *Adapter) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /slack/commands", a.serveCommands)
	mux.HandleFunc("POST /slack/interactions", a.serveInteractions)
	mux.HandleFunc("POST /slack/events", a.serveEvents)
}

// Wait blocks until background work started by requests has finished
// (each piece is bounded by a 2-minute timeout). Call it after the HTTP
// server and Socket Mode loop have stopped.
func (a *Adapter) Wait() { a.wg.Wait() }

// goBackground runs f in the background with a context that outlives the
// request (whose context ends when the handler returns) but not workTimeout.
func (a *Adapter) goBackground(ctx context.Context, f func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), workTimeout)
		defer cancel()
		f(bctx)
	}()
}

// serveWithin runs the engine on req and waits up to budget for its
// reply. When the reply comes later, ok is false and late is called with
// it in the background instead. The context given to the engine ends
// when Serve returns (or after workTimeout).
func (a *Adapter) serveWithin(ctx context.Context, req *commands.Request, budget time.Duration, late func(context.Context, commands.Reply)) (rep commands.Reply, ok bool) {
	var (
		mu     sync.Mutex
		gaveUp bool
		ch     = make(chan commands.Reply, 1)
	)
	a.goBackground(ctx, func(ctx context.Context) {
		a.fillEmail(ctx, req)
		r := a.engine.Serve(ctx, req)
		mu.Lock()
		if !gaveUp {
			ch <- r
			mu.Unlock()
			return
		}
		mu.Unlock()
		late(ctx, r)
	})
	t := time.NewTimer(max(budget, 0))
	defer t.Stop()
	select {
	case r := <-ch:
		return r, true
	case <-t.C:
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case r := <-ch:
		return r, true
	default:
		gaveUp = true
		return commands.Reply{}, false
	}
}

// allowedResponseURL reports whether u may receive replies: a signed
// payload names it, but a leaked secret should not turn the bot into a
// request forwarder.
func (a *Adapter) allowedResponseURL(u string) bool {
	for _, p := range a.prefixes {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// replay is what the share and open buttons carry to run a request again:
// "t:" + command text, or "a:" + action id + "\x1f" + value.
func replayValue(req *commands.Request) string {
	var s string
	switch {
	case req.Action != nil && req.Action.Form == nil:
		s = "a:" + req.Action.ID + "\x1f" + req.Action.Value
	case req.Action == nil && req.Text != "":
		s = "t:" + req.Text
	}
	if len(s) > maxButtonValue {
		return ""
	}
	return s
}

// replayRequest fills req from a replay value; it reports false for a
// value it does not understand.
func replayRequest(v string, req *commands.Request) bool {
	switch {
	case strings.HasPrefix(v, "t:"):
		req.Text = v[2:]
		return true
	case strings.HasPrefix(v, "a:"):
		id, val, _ := strings.Cut(v[2:], "\x1f")
		req.Action = &commands.Action{ID: id, Value: val}
		return id != ""
	}
	return false
}
