package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/portalbot/portalbot/adapters/console"
	"github.com/portalbot/portalbot/bot/demo"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/commands"
)

// demoSource is the source name the demo catalog is synced under.
const demoSource = "acme-shop/catalog"

func runDemo(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "demo", "demo [--dir DIR] [--db URL]",
		"Tries portalbot locally with no chat account and no database server: writes the bundled\n"+
			"example catalog (Acme Shop) into a Git repository, syncs it into SQLite and opens a\n"+
			"console where you type the same commands as in Slack. Piped input works too:\n"+
			"  echo \"who owns payments-api\" | portalbot demo")
	dir := fs.String("dir", "", "working `directory` for the repository and database; empty means a temporary one, removed at exit")
	db := fs.String("db", "", "database `URL`; empty means sqlite: in the working directory")
	portal := fs.String("portal", "", "portal base `URL` for links (env PORTALBOT_PORTAL_URL; default http://localhost:3000)")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	logger := slog.New(slog.DiscardHandler)
	if env.Logger != nil {
		// The console is the demo's output; only problems go to the log.
		logger = slog.New(minLevel{env.Logger.Handler(), slog.LevelWarn})
	}
	work := *dir
	if work == "" {
		tmp, err := os.MkdirTemp("", "portalbot-demo-")
		if err != nil {
			fmt.Fprintf(env.Stderr, "portalbot demo: %v\n", err)
			return ExitFail
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	cfg := DefaultConfig()
	cfg.DB = "sqlite:" + filepath.Join(work, "portalbot-demo.db")
	if *db != "" {
		cfg.DB = *db
	}
	if v := env.getenv("PORTALBOT_PORTAL_URL"); v != "" {
		cfg.PortalURL = v
	}
	if *portal != "" {
		cfg.PortalURL = *portal
	}
	cfg.Templates.PublishBase = filepath.Join(work, "published")
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "portalbot demo: %v\n", err)
		return ExitUsage
	}
	if err := demoRun(ctx, env, cfg, work, logger); err != nil {
		fmt.Fprintf(env.Stderr, "portalbot demo: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

func demoRun(ctx context.Context, env *Env, cfg Config, work string, logger *slog.Logger) error {
	repoDir := filepath.Join(work, "catalog")
	if _, err := demo.WriteRepo(repoDir); err != nil {
		return err
	}
	st, err := openStore(ctx, env, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	syncer := ingest.New(st, ingest.Options{CacheDir: filepath.Join(work, "cache"), Logger: logger})
	res, err := syncer.Sync(ctx, ingest.Source{Name: demoSource, Repo: repoDir})
	if err != nil {
		return fmt.Errorf("sync the demo catalog: %w", err)
	}

	a := &App{Config: cfg, Env: env, Logger: logger, Store: st, Mux: http.NewServeMux(), Posters: map[string]commands.Poster{}, Syncer: syncer}
	r, closeRouter := newRouter(a)
	defer closeRouter()
	fmt.Fprint(env.Stdout, demoBanner(res, repoDir, r))
	c := console.New(r, env.Stdin, env.Stdout, console.Options{Interactive: env.Terminal, UserName: "demo"})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	// Piped input ends right after the last line: a create it launched
	// is still running, and closing the router would cancel it. Wait for
	// it (Ctrl-C still stops); its progress prints as it comes.
	if err := a.templates.Wait(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// demoBanner says what was loaded and what to try.
func demoBanner(res ingest.Result, repoDir string, r *commands.Router) string {
	var b strings.Builder
	b.WriteString("portalbot demo: Acme Shop's catalog, synced from a local Git repository into SQLite.\n")
	kinds := make([]string, 0, len(res.Counts))
	total := 0
	for k, n := range res.Counts {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, strings.ToLower(k)))
		total += n
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "  %d entities (%s) from %s\n", total, strings.Join(kinds, ", "), repoDir)
	if len(res.Errors) > 0 {
		fmt.Fprintf(&b, "  %d processing errors, e.g. %s\n", len(res.Errors), res.Errors[0].String())
	}
	b.WriteString("\nTry:\n")
	examples := []string{"who owns payments-api?", "owner paymnts-api", "owner checkout", "docs payments-rest", "team payments", "oncall payments-api", "deps payments-api", "search fraud"}
	if c, _ := r.Lookup("drift"); c != nil {
		examples = append(examples, "drift")
	}
	if c, _ := r.Lookup("templates"); c != nil {
		examples = append(examples, "templates")
	}
	for _, e := range examples {
		b.WriteString("  " + e + "\n")
	}
	b.WriteString("Type help for every command, a button's number to press it, exit to leave.\n\n")
	return b.String()
}

// minLevel drops records below level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
