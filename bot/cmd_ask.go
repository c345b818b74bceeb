package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/portalbot/portalbot/adapters/console"
	"github.com/portalbot/portalbot/commands"
)

func runAsk(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "ask", `ask [--config FILE] [--db URL] [--json] "<text>"`,
		"Runs one chat command against the configured database and prints the answer as text,\n"+
			"or with --json as the platform-neutral reply. Example: portalbot ask \"who owns payments-api\"")
	configPath := fs.String("config", env.getenv("PORTALBOT_CONFIG"), "YAML config `file` (env PORTALBOT_CONFIG)")
	db := fs.String("db", "", "database `URL`: postgres://... or sqlite:PATH (env PORTALBOT_DB; default sqlite:portalbot.db)")
	asJSON := fs.Bool("json", false, "print the neutral reply as JSON")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	text := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if text == "" {
		fmt.Fprintln(env.Stderr, `portalbot ask: what should I ask? For example: portalbot ask "who owns payments-api"`)
		return ExitUsage
	}
	cfg, err := LoadConfig(*configPath, env.getenv)
	if err == nil && *db != "" {
		cfg.DB = *db
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot ask: %v\n", err)
		return ExitUsage
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(ctx, env, cfg.DB)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot ask: %v\n", err)
		return ExitFail
	}
	defer st.Close()

	a := &App{Config: cfg, Env: env, Logger: logger, Store: st, Mux: http.NewServeMux(), Posters: map[string]commands.Poster{}}
	r, closeRouter := newRouter(a)
	defer closeRouter()
	rep := r.Serve(ctx, &commands.Request{
		Platform: commands.PlatformConsole,
		UserID:   "cli",
		UserName: "cli",
		Text:     text,
	})
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(env.Stderr, "portalbot ask: %v\n", err)
			return ExitFail
		}
		return ExitOK
	}
	fmt.Fprint(env.Stdout, console.Render(rep))
	if counts, err := st.Counts(ctx); err == nil && len(counts) == 0 {
		fmt.Fprintf(env.Stderr, "portalbot ask: the catalog in %s is empty; run 'portalbot sync' first, or try 'portalbot demo'\n", redactDB(cfg.DB))
	}
	return ExitOK
}
