package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
)

// shutdownGrace bounds how long serve waits for in-flight requests after
// SIGTERM; Kubernetes' default terminationGracePeriodSeconds is 30.
const shutdownGrace = 25 * time.Second

func runServe(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "serve", "serve [--config FILE] [--db URL] [--addr ADDR]",
		"Runs the bot: HTTP endpoints (/slack/*, /discord/interactions, /healthz, /readyz, /metrics),\n"+
			"Slack Socket Mode and the Discord gateway when their tokens are set, scheduled syncs and\n"+
			"drift reports. Stops gracefully on SIGTERM or Ctrl-C.")
	configPath := fs.String("config", env.getenv("PORTALBOT_CONFIG"), "YAML config `file` (env PORTALBOT_CONFIG)")
	db := fs.String("db", "", "database `URL`: postgres://... or sqlite:PATH (env PORTALBOT_DB; default sqlite:portalbot.db)")
	addr := fs.String("addr", "", "HTTP listen `address` (env PORTALBOT_HTTP_ADDR; default :8080)")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	cfg, err := LoadConfig(*configPath, env.getenv)
	if err == nil {
		if *db != "" {
			cfg.DB = *db
		}
		if *addr != "" {
			cfg.HTTPAddr = *addr
		}
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot serve: %v\n", err)
		return ExitUsage
	}
	if err := Serve(ctx, cfg, env); err != nil {
		fmt.Fprintf(env.Stderr, "portalbot serve: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

// Serve runs every part the configuration enables until ctx ends, then
// shuts down gracefully: it stops accepting requests, lets in-flight ones
// finish (bounded by shutdownGrace) and cancels jobs, whose transactions
// roll back so no sync is half-applied.
//
// The HTTP server starts first, with /healthz, /metrics and a /readyz that
// says not ready; serve then opens the database, retrying while it is
// unreachable, applies pending migrations and only then starts the other
// parts. A database that is down at start delays readiness, it does not
// stop serve.
func Serve(ctx context.Context, cfg Config, env *Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &App{
		Config:  cfg,
		Env:     env,
		Logger:  logger,
		Mux:     http.NewServeMux(),
		Metrics: NewMetrics(),
		Holder:  holderID(),
		Posters: map[string]commands.Poster{},

		Connections: NewConnections(),
	}
	jobs := make([]string, 0, len(cfg.Reports.Targets))
	for _, t := range cfg.Reports.Targets {
		jobs = append(jobs, targetJob(t))
	}
	a.Metrics.KnownReports(jobs)
	// ready holds the store once it is open and migrated; until then
	// readiness fails and the routes the parts register do not exist yet.
	var ready atomic.Pointer[sqlstore.Store]
	a.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	a.Mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		readyz(w, r, ready.Load(), a.Connections, cfg.ReadyzDetails)
	})
	a.Mux.Handle("GET /metrics", a.Metrics.Handler())

	// Either runs, but answers no one or from an empty catalog: say so
	// at start rather than leave the operator to wonder.
	if env.getenv("SLACK_BOT_TOKEN") == "" && env.getenv("DISCORD_BOT_TOKEN") == "" {
		logger.WarnContext(ctx, "no chat platform configured: set SLACK_BOT_TOKEN (Slack) or DISCORD_BOT_TOKEN (Discord); until then only the HTTP endpoints answer")
	}
	if len(cfg.Sources) == 0 {
		logger.WarnContext(ctx, "no catalog sources configured: nothing is synced; list sources: in the config file (PORTALBOT_CONFIG), or run portalbot sync --repo")
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{
		Handler:           withRequestLog(a.Metrics.HTTP(untilReady(a.Mux, &ready)), logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	logger.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "db", redactDB(cfg.DB), "portal_url", cfg.PortalURL)
	if env.OnListen != nil {
		env.OnListen(ln.Addr().String())
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("shutting down", "grace_s", shutdownGrace.Seconds())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), shutdownGrace)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	// The store and the router's template runs are closed after g.Wait,
	// when the HTTP server has let in-flight requests finish; both are
	// written before the goroutine that sets them ends.
	var (
		store       *sqlstore.Store
		closeRouter func()
	)
	g.Go(func() error {
		var err error
		if store, err = openWhenReachable(gctx, cfg.DB, logger); err != nil {
			return err
		}
		var parts []Part
		if parts, closeRouter, err = a.buildParts(gctx, store); err != nil {
			return err
		}
		ready.Store(store)
		pg, pctx := errgroup.WithContext(gctx)
		for _, p := range parts {
			pg.Go(func() error { return p(pctx) })
		}
		return pg.Wait()
	})
	err = g.Wait()
	if closeRouter != nil {
		closeRouter()
	}
	if store != nil {
		store.Close()
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	logger.Info("stopped")
	return err
}

// buildParts sets up a's store, syncer and router on store and builds
// serve's parts. The returned func stops template runs in progress; call
// it on shutdown, also after an error.
func (a *App) buildParts(ctx context.Context, store *sqlstore.Store) ([]Part, func(), error) {
	a.Store = store
	opts := a.Config.ingestOptions(a.Env)
	opts.Logger = a.Logger
	a.Syncer = ingest.New(store, opts)
	router, closeRouter := newRouter(a)
	a.Router = router
	var parts []Part
	for _, build := range []func(context.Context, *App) ([]Part, error){slackParts, discordParts, jobParts} {
		p, err := build(ctx, a)
		if err != nil {
			return nil, closeRouter, err
		}
		parts = append(parts, p...)
	}
	return parts, closeRouter, nil
}

// Opening the database at start: connecting is bounded by
// openAttemptTimeout and applying migrations by migrateTimeout (an index
// on a big table may take minutes); while the database is unreachable the
// attempts repeat, openRetryFirst apart at first and doubling up to
// openRetryMax.
const (
	openAttemptTimeout = 30 * time.Second
	migrateTimeout     = 30 * time.Minute
	openRetryFirst     = 500 * time.Millisecond
	openRetryMax       = 15 * time.Second
)

// openWhenReachable opens the database at dbURL and applies pending
// migrations, retrying while either fails with catalog.ErrUnavailable
// (down, hung, refusing connections) until ctx ends. Any other error (a
// bad password, a failed migration) is returned: retrying would not fix it.
func openWhenReachable(ctx context.Context, dbURL string, logger *slog.Logger) (*sqlstore.Store, error) {
	wait := openRetryFirst
	for attempt := 1; ; attempt++ {
		store, err := openMigrated(ctx, dbURL)
		if err == nil {
			if attempt > 1 {
				logger.InfoContext(ctx, "database reachable", "db", redactDB(dbURL), "attempts", attempt)
			}
			return store, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, catalog.ErrUnavailable) {
			return nil, err
		}
		logger.WarnContext(ctx, "database unreachable; retrying", "db", redactDB(dbURL),
			"attempt", attempt, "retry_in_s", wait.Seconds(), "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, openRetryMax)
	}
}

// openMigrated is one attempt of openWhenReachable.
func openMigrated(ctx context.Context, dbURL string) (*sqlstore.Store, error) {
	octx, cancel := context.WithTimeout(ctx, openAttemptTimeout)
	defer cancel()
	store, err := sqlstore.OpenNoMigrate(octx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	mctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	if _, err := store.Migrate(mctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return store, nil
}

// readyz reports ready when the store is open and the database answers.
// By default the body says only that, the database's state and how many
// sources are in each sync status: the probe port is often reachable by
// more people than the catalog, and source names, commits and errors
// (which may name hosts) are details. details (http readyz_details) adds
// them, so an operator sees why a replica is not ready. A nil store means
// serve has not reached the database yet. conns, when not nil, adds each
// chat connection's state (and, with details, its error and next retry).
//
// ?allow_cached=true answers 200 while the database is down once serve
// has opened it: commands then answer from the in-memory cache, so a
// Kubernetes readiness probe using it keeps the replica in the Service
// rather than leaving users with no answer at all.
func readyz(w http.ResponseWriter, r *http.Request, st *sqlstore.Store, conns *Connections, details bool) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	type source struct {
		Name     string    `json:"name"`
		Commit   string    `json:"commit,omitempty"`
		Status   string    `json:"status"`
		Message  string    `json:"message,omitempty"`
		SyncedAt time.Time `json:"synced_at"`
	}
	body := struct {
		Ready    bool   `json:"ready"`
		Database string `json:"database"`
		// Sources is []source with details, else a count per status.
		Sources any `json:"sources"`
		// Warnings counts the sources whose last sync succeeded with a
		// warning (an over-limit CODEOWNERS), so the default body, which
		// names no source, still says one needs a look.
		Warnings int `json:"warnings,omitempty"`
		// Connections are Socket Mode's and the gateway's states; a
		// connection being down does not make the replica unready (HTTP
		// endpoints still answer), but says why it is quiet.
		Connections map[string]ConnState `json:"connections,omitempty"`
	}{Ready: true, Database: "ok"}
	if conns != nil {
		body.Connections = conns.Snapshot()
		if !details {
			for k, c := range body.Connections {
				body.Connections[k] = ConnState{State: c.State, Since: c.Since}
			}
		}
	}
	list, counts := []source{}, map[string]int{}
	switch {
	case st == nil:
		body.Ready, body.Database = false, "unreachable"
	case st.Ping(ctx) != nil:
		body.Database = "unreachable"
		body.Ready = r.URL.Query().Get("allow_cached") == "true"
	default:
		if srcs, err := st.Sources(ctx); err == nil {
			for _, s := range srcs {
				list = append(list, source{s.Name, s.Commit, s.Status, s.Message, s.SyncedAt})
				counts[s.Status]++
				if s.Status == "ok" && s.Message != "" {
					body.Warnings++
				}
			}
		}
	}
	body.Sources = counts
	if details {
		body.Sources = list
	}
	w.Header().Set("Content-Type", "application/json")
	if !body.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	// The client may be gone; nothing to do about a failed write.
	_ = json.NewEncoder(w).Encode(body)
}

// untilReady answers 503 to every request but /healthz, /readyz and
// /metrics until ready holds the store: the chat routes are registered
// only then.
func untilReady(next http.Handler, ready *atomic.Pointer[sqlstore.Store]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case ready.Load() != nil, r.URL.Path == "/healthz", r.URL.Path == "/readyz", r.URL.Path == "/metrics":
			next.ServeHTTP(w, r)
		default:
			http.Error(w, "portalbot is starting: the database is not reachable yet", http.StatusServiceUnavailable)
		}
	})
}

// withRequestLog gives every request an id (X-Request-Id, or a new one)
// and logs method, path, status and duration; never headers or bodies,
// which carry signatures and tokens.
func withRequestLog(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = randomHex(8)
		}
		w.Header().Set("X-Request-Id", id)
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rw, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			return
		}
		logger.InfoContext(r.Context(), "http request", "request_id", id, "method", r.Method,
			"path", r.URL.Path, "status", rw.status, "took_s", time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func holderID() string {
	host, _ := os.Hostname() // an empty host still leaves pid and random part
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// redactDB drops the password from a database URL for logging.
func redactDB(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		return "[unparsable]"
	}
	return u.Redacted()
}
