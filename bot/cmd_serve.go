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
	"time"

	"golang.org/x/sync/errgroup"

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
func Serve(ctx context.Context, cfg Config, env *Env) error {
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	store, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.Close()

	a := &App{
		Config:  cfg,
		Env:     env,
		Logger:  logger,
		Store:   store,
		Mux:     http.NewServeMux(),
		Metrics: NewMetrics(),
		Holder:  holderID(),
		Posters: map[string]commands.Poster{},
	}
	opts := cfg.ingestOptions(env)
	opts.Logger = logger
	a.Syncer = ingest.New(store, opts)
	router, closeRouter := newRouter(a)
	defer closeRouter()
	a.Router = router

	a.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	a.Mux.HandleFunc("GET /readyz", a.readyz)
	a.Mux.Handle("GET /metrics", a.Metrics.Handler())

	var parts []Part
	for _, build := range []func(context.Context, *App) ([]Part, error){slackParts, discordParts, syncParts, reportsParts} {
		p, err := build(ctx, a)
		if err != nil {
			return err
		}
		parts = append(parts, p...)
	}

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
		Handler:           withRequestLog(a.Mux, logger),
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
		logger.Info("shutting down", "grace", shutdownGrace)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), shutdownGrace)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	for _, p := range parts {
		g.Go(func() error { return p(gctx) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	logger.Info("stopped")
	return err
}

// readyz reports ready when the database answers; the body lists each
// source's last sync so an operator sees why a replica is not ready.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
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
		Ready    bool     `json:"ready"`
		Database string   `json:"database"`
		Sources  []source `json:"sources"`
	}{Ready: true, Database: "ok", Sources: []source{}}
	if err := a.Store.Ping(ctx); err != nil {
		body.Ready, body.Database = false, "unreachable"
	} else if srcs, err := a.Store.Sources(ctx); err == nil {
		for _, s := range srcs {
			body.Sources = append(body.Sources, source{s.Name, s.Commit, s.Status, s.Message, s.SyncedAt})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !body.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	// The client may be gone; nothing to do about a failed write.
	_ = json.NewEncoder(w).Encode(body)
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
			"path", r.URL.Path, "status", rw.status, "took", time.Since(start))
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
