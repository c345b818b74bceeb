package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/ingest/portal"
)

// repoList collects repeated --repo flags.
type repoList []string

func (r *repoList) String() string     { return strings.Join(*r, ",") }
func (r *repoList) Set(v string) error { *r = append(*r, v); return nil }

const syncSummary = `Sync catalog sources into the database once: the --repo repositories
(local paths, file://, https:// or ssh:// URLs) and --backstage backends
(base URLs; token in PORTALBOT_BACKSTAGE_TOKEN), or else the sources of
the config file. Exits 0 when the sync ran, even when some files
had errors (they keep their last good entities and are listed); non-zero
when a repository or the database could not be reached.`

func runSync(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "sync", "sync [--db URL] [--repo URL ...] [--backstage URL ...] [--config FILE] [--json]", syncSummary)
	db := fs.String("db", "", "database `URL`: postgres://... or sqlite:PATH (env PORTALBOT_DB)")
	configPath := fs.String("config", env.getenv("PORTALBOT_CONFIG"), "YAML config `file` (env PORTALBOT_CONFIG)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object on the last line")
	var repos repoList
	fs.Var(&repos, "repo", "repository to sync (repeatable); default: the config's sources")
	var backstages repoList
	fs.Var(&backstages, "backstage", "Backstage backend `URL` whose catalog to mirror (repeatable); default: the config's sources")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	cfg, err := LoadConfig(*configPath, env.getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot sync: %v\n", err)
		return ExitUsage
	}
	sources := cfg.ingestSources()
	if len(repos) > 0 || len(backstages) > 0 {
		sources = sources[:0]
		for _, r := range repos {
			sources = append(sources, ingest.Source{Repo: r})
		}
	}
	if len(repos) == 0 && len(backstages) == 0 && len(cfg.Sources) == 0 {
		fmt.Fprintln(env.Stderr, "portalbot sync: no sources: pass --repo PATH|URL, --backstage URL, or list sources in the config file")
		return ExitUsage
	}
	url := *db
	if url == "" {
		url = cfg.DB
	}
	st, err := openStore(ctx, env, url)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot sync: %v\n", err)
		return ExitFail
	}
	defer st.Close()

	opts := cfg.ingestOptions(env)
	opts.Sources = append(cfg.ingestSources(), sources...)
	var line *progressLine
	if env.Terminal {
		line = &progressLine{w: env.Stderr, of: len(sources)}
		opts.Progress = line.show
		if opts.Logger != nil {
			opts.Logger = slog.New(lineEnder{opts.Logger.Handler(), line})
		}
	}
	syncer := ingest.New(st, opts)
	ps := newPortalSyncer(st, env, env.Logger)
	var jobs []sourceJob
	if len(repos) > 0 || len(backstages) > 0 {
		for _, src := range sources {
			jobs = append(jobs, sourceJob{src: src, sync: syncer.Sync})
		}
		for _, u := range backstages {
			jobs = append(jobs, portalJob(ps, portal.Source{URL: u}))
		}
	} else {
		jobs = cfg.sourceJobs(syncer, ps)
	}
	start := time.Now()
	var results []ingest.Result
	var failed []string
	if line != nil {
		line.of = len(jobs)
	}
	for i, j := range jobs {
		if line != nil {
			line.next(i + 1)
		}
		res, err := j.sync(ctx, j.src)
		if line != nil {
			line.clear()
		}
		if err != nil {
			// Said here, on stderr, once; the summary only counts it.
			failed = append(failed, err.Error())
			fmt.Fprintf(env.Stderr, "portalbot sync: %v\n", err)
			continue
		}
		results = append(results, res)
	}
	counts, err := st.Counts(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot sync: %v\n", err)
		return ExitFail
	}
	sum := summarize(results, counts, failed, time.Since(start))
	if *asJSON {
		b, err := json.Marshal(sum.object())
		if err != nil {
			fmt.Fprintf(env.Stderr, "portalbot sync: %v\n", err)
			return ExitFail
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		sum.print(env.Stdout)
	}
	if len(failed) > 0 {
		return ExitFail
	}
	return ExitOK
}

// ingestSources converts the configured Git sources.
func (c *Config) ingestSources() []ingest.Source {
	out := make([]ingest.Source, 0, len(c.Sources))
	for _, s := range c.Sources {
		if s.Backstage != "" {
			continue
		}
		out = append(out, ingest.Source{Name: s.Name, Repo: s.Repo, Branch: s.Branch, Root: s.Root, TokenEnv: s.TokenEnv, SSHKeyFile: s.SSHKeyFile})
	}
	return out
}

// ingestOptions builds the Syncer options shared by sync and serve.
func (c *Config) ingestOptions(env *Env) ingest.Options {
	return ingest.Options{
		CacheDir: c.cacheDir(env),
		Logger:   env.Logger,
		Placeholders: ingest.Placeholders{
			AllowedHosts: c.Placeholders.AllowedHosts,
			Timeout:      c.Placeholders.Timeout,
			MaxBytes:     c.Placeholders.MaxBytes,
			MaxFileBytes: c.Placeholders.MaxFileBytes,
			MaxSyncBytes: c.Placeholders.MaxSyncBytes,
		},
		Sources:    c.ingestSources(),
		Getenv:     env.getenv,
		AlphaModel: c.CatalogModel == "alpha",
	}
}

// cacheDir is Sync.CacheDir, else $XDG_CACHE_HOME/portalbot, else
// ~/.cache/portalbot; "" when none can be found (remote sources then fail
// with a message saying so).
func (c *Config) cacheDir(env *Env) string {
	if c.Sync.CacheDir != "" {
		return c.Sync.CacheDir
	}
	if x := env.getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "portalbot")
	}
	if h := env.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "portalbot")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "portalbot")
	}
	return ""
}

// syncSummaryData is what sync prints at the end.
type syncSummaryData struct {
	results                 []ingest.Result
	counts                  map[string]int
	failed                  []string
	added, updated, removed int
	errors                  []catalog.ProcessingError
	warnings                []catalog.ProcessingError
	took                    time.Duration
}

func summarize(results []ingest.Result, counts map[string]int, failed []string, took time.Duration) syncSummaryData {
	s := syncSummaryData{results: results, counts: counts, failed: failed, took: took}
	for _, r := range results {
		s.added += r.Added
		s.updated += r.Updated
		s.removed += r.Removed
		s.errors = append(s.errors, r.Errors...)
		s.warnings = append(s.warnings, r.Warnings...)
	}
	return s
}

// object is the --json output: the entity count per kind as top-level keys
// named by kind ("Component": 1488), as issue 3 asks, beside the totals,
// the errors, the warnings (a CODEOWNERS over GitHub's limit), the duration
// and one entry per source.
func (s syncSummaryData) object() map[string]any {
	o := map[string]any{}
	for k, n := range s.counts {
		o[k] = n
	}
	errs := s.errors
	if errs == nil {
		errs = []catalog.ProcessingError{}
	}
	warns := s.warnings
	if warns == nil {
		warns = []catalog.ProcessingError{}
	}
	var sources []map[string]any
	for _, r := range s.results {
		sources = append(sources, map[string]any{
			"name": r.Source, "commit": r.Commit, "noop": r.NoOp, "full": r.Full, "files": r.Files,
			"added": r.Added, "updated": r.Updated, "removed": r.Removed, "errors": len(r.Errors), "warnings": len(r.Warnings),
			"duration_ms": r.Duration.Milliseconds(),
		})
	}
	o["added"], o["updated"], o["removed"] = s.added, s.updated, s.removed
	o["errors"] = errs
	o["warnings"] = warns
	o["duration_ms"] = s.took.Milliseconds()
	o["sources"] = sources
	o["counts"] = s.counts
	if len(s.failed) > 0 {
		o["failed"] = s.failed
	}
	return o
}

func (s syncSummaryData) print(w io.Writer) {
	for _, r := range s.results {
		short := r.Commit
		if len(short) > 12 {
			short = short[:12]
		}
		what := "full"
		switch {
		case r.NoOp:
			what = "unchanged"
		case !r.Full:
			what = "incremental"
		}
		fmt.Fprintf(w, "%s: %s at %s, %d files, %d added, %d updated, %d removed, %d errors (%s)\n",
			r.Source, what, short, r.Files, r.Added, r.Updated, r.Removed, len(r.Errors), r.Duration.Round(time.Millisecond))
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
		for _, e := range r.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", e)
		}
	}
	kinds := make([]string, 0, len(s.counts))
	total := 0
	for k, n := range s.counts {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		total += n
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "catalog: %d entities (%s); took %s\n", total, strings.Join(kinds, ", "), s.took.Round(time.Millisecond))
	if n := len(s.failed); n > 0 {
		fmt.Fprintf(w, "failed: %d of %d sources (the errors are above, on stderr)\n", n, n+len(s.results))
	}
}

// progressLine is sync's progress on a terminal: one line, rewritten in
// place, naming the source (and which of how many), the phase, and the
// files done, of how many and the percentage when a total is known.
// Logs end the line first (see lineEnder), so a record never starts in
// the middle of it. It is safe for concurrent use.
type progressLine struct {
	w      io.Writer
	of     int // sources in this run
	mu     sync.Mutex
	n      int  // the source being synced, from 1
	active bool // a progress line is on screen and not ended
}

// phaseNames says each ingest phase as an activity.
var phaseNames = map[string]string{"fetch": "fetching", "discover": "discovering", "apply": "writing", "": "discovering"}

func (l *progressLine) next(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n = n
}

func (l *progressLine) show(p ingest.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r\033[K%s", progressText(l.n, l.of, p))
	l.active = true
}

// progressText is the text of one progress line.
func progressText(n, of int, p ingest.Progress) string {
	phase := phaseNames[p.Phase]
	if phase == "" {
		phase = p.Phase
	}
	s := fmt.Sprintf("[%d/%d] %s: %s", n, of, p.Source, phase)
	switch {
	case p.Total > 0 && p.Files < p.Total:
		s += fmt.Sprintf(" %d of ~%d files (%d%%)", p.Files, p.Total, p.Files*100/p.Total)
	case p.Files > 0:
		s += fmt.Sprintf(" %d files", p.Files)
	}
	return s
}

// end finishes a progress line on screen with a newline, keeping it.
func (l *progressLine) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active {
		fmt.Fprintln(l.w)
		l.active = false
	}
}

// clear erases a progress line on screen.
func (l *progressLine) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active {
		fmt.Fprint(l.w, "\r\033[K")
		l.active = false
	}
}

// lineEnder is a slog.Handler that ends the progress line before each
// record it passes on.
type lineEnder struct {
	slog.Handler
	line *progressLine
}

func (h lineEnder) Handle(ctx context.Context, r slog.Record) error {
	h.line.end()
	return h.Handler.Handle(ctx, r)
}

func (h lineEnder) WithAttrs(as []slog.Attr) slog.Handler {
	return lineEnder{h.Handler.WithAttrs(as), h.line}
}

func (h lineEnder) WithGroup(name string) slog.Handler {
	return lineEnder{h.Handler.WithGroup(name), h.line}
}
