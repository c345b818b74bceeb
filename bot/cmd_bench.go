package bot

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
	"github.com/portalbot/portalbot/commands"
)

// benchSecret signs the benchmark's in-process Slack requests; it never
// leaves the process.
const benchSecret = "portalbot-bench-signing-secret"

// BenchResult is what portalbot bench measures; --json prints it as one line.
type BenchResult struct {
	Entities   int     `json:"entities"`
	Repos      int     `json:"repos"`
	DB         string  `json:"db"`
	Files      int     `json:"files"`
	GenerateMS float64 `json:"generate_ms"`
	FullSyncMS float64 `json:"full_sync_ms"`
	// CopyFloorMS is Postgres' COPY of the stored documents into a fresh
	// table indexed by ref, measured right after the full sync, and
	// XCopyFloor the full sync's multiple of it (issue 19: at most 5x).
	// Both are absent on SQLite.
	CopyFloorMS float64 `json:"copy_floor_ms,omitempty"`
	XCopyFloor  float64 `json:"x_copy_floor,omitempty"`
	// GitReadCPUMS and YAMLParseCPUMS are the CPU time go-git takes to
	// read every descriptor and yaml.v3 to decode them, alone
	// (libraryCPU). InsertFloorMS is Postgres writing the stored rows
	// again by INSERT ... SELECT (sqlstore.InsertFloor), LowerBoundMS the
	// least a full sync could take on Cores CPUs given those three
	// (lowerBound), and XLowerBound its multiple of the COPY floor. The
	// last three are absent on SQLite.
	GitReadCPUMS   float64 `json:"git_read_cpu_ms"`
	YAMLParseCPUMS float64 `json:"yaml_parse_cpu_ms"`
	InsertFloorMS  float64 `json:"insert_floor_ms,omitempty"`
	Cores          int     `json:"cores"`
	LowerBoundMS   float64 `json:"lower_bound_ms,omitempty"`
	XLowerBound    float64 `json:"x_copy_floor_lower_bound,omitempty"`
	// SyncPeakRSSMB is the process's peak resident memory during the full
	// sync alone (VmHWM reset after generating the catalog).
	SyncPeakRSSMB float64 `json:"sync_peak_rss_mb"`
	NoopSyncMS    float64 `json:"noop_sync_ms"`
	OneFileMS     float64 `json:"one_file_ms"`
	// OneFileVisibleMS is from the start of the one-file sync until an
	// owner command, asked every 10 ms from that start, answers with the
	// new owner: the sync up to its commit, then the view's patch (or
	// rebuild) and the answer's reads.
	OneFileVisibleMS float64 `json:"one_file_visible_ms"`
	IndexMS          float64 `json:"index_ms"`
	OwnerN           int     `json:"owner_requests"`
	OwnerP50MS       float64 `json:"owner_p50_ms"`
	OwnerP99MS       float64 `json:"owner_p99_ms"`
	Clients          int     `json:"clients"`
	DurationS        float64 `json:"duration_s"`
	OwnerPerSec      float64 `json:"owner_per_sec"`
	// The floor: the same requests against floorHandler, and the owner
	// command's multiples of it (issue 19: p99 at most 2x, throughput at
	// least 0.6x).
	FloorP50MS           float64 `json:"floor_p50_ms"`
	FloorP99MS           float64 `json:"floor_p99_ms"`
	FloorPerSec          float64 `json:"floor_per_sec"`
	OwnerP99Ratio        float64 `json:"owner_p99_ratio"`
	OwnerThroughputRatio float64 `json:"owner_throughput_ratio"`
	ReportMS             float64 `json:"report_ms"`
	ReportWarmMS         float64 `json:"report_warm_ms"`
	Findings             int     `json:"report_findings"`
	PeakRSSMB            float64 `json:"peak_rss_mb"`
}

type benchOptions struct {
	entities, repos, clients, requests int
	duration                           time.Duration
	db                                 string
}

func runBench(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "bench", "bench [--entities N] [--repos R] [--db URL] [--clients C] [--duration D] [--json]",
		"Generates a synthetic catalog of about N entities in R Git repositories (in a temporary\n"+
			"directory) and measures, end to end through portalbot's own code:\n"+
			"  full sync, no-op re-sync and a one-file change (Git -> database),\n"+
			"  /portal owner latency p50/p99 through the signed Slack HTTP handler, one client,\n"+
			"  owner commands per second with C concurrent clients for D,\n"+
			"  the same against the floor: a minimal signed-HTTP handler doing one indexed SELECT\n"+
			"  of the owner in the same database, and owner's p99 and throughput as multiples of it\n"+
			"  (both servers on loopback HTTP, driven by the same clients),\n"+
			"  drift report computation (cold, then warm from the snapshot cache),\n"+
			"  the process's peak resident memory (VmHWM).\n"+
			"The database is a temporary SQLite file by default. With --db postgres://..., bench creates\n"+
			"a fresh schema (search_path) in that database and drops it afterwards; nothing else is touched.\n"+
			"Prints a table, or exactly one JSON line with --json.")
	o := benchOptions{}
	fs.IntVar(&o.entities, "entities", 10000, "approximate number of `entities` to generate")
	fs.IntVar(&o.repos, "repos", 1, "number of Git `repositories` to spread them over")
	fs.StringVar(&o.db, "db", "", "database `URL`: postgres://... (a fresh schema, dropped after) or sqlite:PATH; default a temporary SQLite file")
	fs.IntVar(&o.clients, "clients", 8, "concurrent `clients` for the throughput run")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "`duration` of the throughput run")
	fs.IntVar(&o.requests, "requests", 1000, "owner `requests` timed one at a time for p50/p99")
	asJSON := fs.Bool("json", false, "print one JSON line instead of a table")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (go tool pprof)")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "portalbot bench: %v\n", err)
			return ExitUsage
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(env.Stderr, "portalbot bench: %v\n", err)
			return ExitFail
		}
		defer pprof.StopCPUProfile()
	}
	if o.entities < 10 || o.repos < 1 || o.clients < 1 || o.requests < 1 || o.duration <= 0 || fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "portalbot bench: want --entities >= 10, --repos, --clients, --requests >= 1, --duration > 0 and no arguments")
		return ExitUsage
	}
	progress := func(string) {}
	if env.Terminal && !*asJSON {
		progress = func(s string) { fmt.Fprintf(env.Stderr, "bench: %s\n", s) }
	}
	res, err := bench(ctx, env, o, progress)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot bench: %v\n", err)
		return ExitFail
	}
	if *asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			fmt.Fprintf(env.Stderr, "portalbot bench: %v\n", err)
			return ExitFail
		}
		fmt.Fprintln(env.Stdout, string(b))
		return ExitOK
	}
	printBench(env, res)
	return ExitOK
}

func printBench(env *Env, r BenchResult) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	ms := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) + " ms" }
	row("catalog", fmt.Sprintf("%d entities, %d files, %d repo(s), %s", r.Entities, r.Files, r.Repos, r.DB))
	row("generate", ms(r.GenerateMS))
	row("full sync", ms(r.FullSyncMS))
	if r.CopyFloorMS > 0 {
		row("COPY floor (same documents)", ms(r.CopyFloorMS)+fmt.Sprintf(", full sync %.1fx it", r.XCopyFloor))
	}
	row("go-git reads alone (CPU)", ms(r.GitReadCPUMS))
	row("yaml.v3 decoding alone (CPU)", ms(r.YAMLParseCPUMS))
	if r.LowerBoundMS > 0 {
		row("Postgres INSERT ... SELECT alone", ms(r.InsertFloorMS))
		row(fmt.Sprintf("lower bound on %d cores", r.Cores), ms(r.LowerBoundMS)+fmt.Sprintf(", %.1fx the COPY floor", r.XLowerBound))
	}
	row("peak RSS during the full sync", fmt.Sprintf("%.1f MB", r.SyncPeakRSSMB))
	row("no-op re-sync", ms(r.NoopSyncMS))
	row("one-file change", ms(r.OneFileMS)+", in answers after "+ms(r.OneFileVisibleMS))
	row("command index build", ms(r.IndexMS))
	row("owner p50 (signed Slack HTTP)", ms(r.OwnerP50MS))
	row("owner p99", ms(r.OwnerP99MS))
	row("owner throughput", fmt.Sprintf("%.0f commands/s (%d clients, %.1f s)", r.OwnerPerSec, r.Clients, r.DurationS))
	row("floor p50 (signed HTTP, one SELECT)", ms(r.FloorP50MS))
	row("floor p99", ms(r.FloorP99MS))
	row("floor throughput", fmt.Sprintf("%.0f requests/s", r.FloorPerSec))
	row("owner / floor", fmt.Sprintf("p99 %.2fx (goal <= 2x), throughput %.2fx (goal >= 0.6x)", r.OwnerP99Ratio, r.OwnerThroughputRatio))
	row("drift report (cold)", ms(r.ReportMS)+fmt.Sprintf(", %d findings", r.Findings))
	row("drift report (warm)", ms(r.ReportWarmMS))
	row("peak RSS (whole run)", fmt.Sprintf("%.1f MB", r.PeakRSSMB))
	// A failed write to stdout has nowhere to be reported.
	_ = tw.Flush()
}

func millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// bench runs every measurement; see runBench's help.
func bench(ctx context.Context, env *Env, o benchOptions, progress func(string)) (BenchResult, error) {
	res := BenchResult{Repos: o.repos, Clients: o.clients}
	tmp, err := os.MkdirTemp("", "portalbot-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)

	progress(fmt.Sprintf("generating %d entities in %d repo(s)", o.entities, o.repos))
	start := time.Now()
	repos, stats, err := synth.GenerateStats(filepath.Join(tmp, "repos"), synth.Options{Entities: o.entities, Repos: o.repos, Seed: 1})
	if err != nil {
		return res, fmt.Errorf("generate: %w", err)
	}
	res.GenerateMS = millis(time.Since(start))
	res.Entities = stats.Total()

	dbURL := o.db
	if dbURL == "" {
		dbURL = "sqlite:" + filepath.Join(tmp, "bench.db")
	}
	st, dbName, cleanup, err := openBenchStore(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer cleanup()
	res.DB = dbName

	sources := make([]ingest.Source, len(repos))
	for i, r := range repos {
		sources[i] = ingest.Source{Name: fmt.Sprintf("bench-%03d", i), Repo: r}
	}
	// committed, once set, is called as serve's is when a sync commits a
	// change (ingest.Options.Committed).
	var committed func()
	syncer := ingest.New(st, ingest.Options{CacheDir: filepath.Join(tmp, "cache"), Sources: sources,
		Committed: func(string, catalog.SyncResult) {
			if committed != nil {
				committed()
			}
		}})
	syncAll := func(want func(ingest.Result) error) (time.Duration, error) {
		start := time.Now()
		for _, src := range sources {
			r, err := syncer.Sync(ctx, src)
			if err != nil {
				return 0, err
			}
			if err := want(r); err != nil {
				return 0, fmt.Errorf("sync %s: %w", src.Name, err)
			}
			if len(r.Errors) > 0 {
				return 0, fmt.Errorf("sync %s: %d processing errors, first %s", src.Name, len(r.Errors), r.Errors[0].Message)
			}
			res.Files += r.Files
		}
		return time.Since(start), nil
	}
	progress("full sync")
	// The peak of the sync alone: what generating left is returned first.
	debug.FreeOSMemory()
	resetPeakRSS()
	took, err := syncAll(func(r ingest.Result) error {
		if !r.Full || r.NoOp {
			return fmt.Errorf("want a full sync, got %+v", r)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.FullSyncMS = millis(took)
	res.SyncPeakRSSMB = peakRSSMB()
	if st.Dialect() == "postgres" {
		progress("COPY floor")
		floor, err := st.CopyFloor(ctx)
		if err != nil {
			return res, err
		}
		res.CopyFloorMS = millis(floor)
		res.XCopyFloor = float64(took) / float64(floor)
	}
	progress("go-git and yaml.v3 alone")
	gitCPU, yamlCPU, err := libraryCPU(repos)
	if err != nil {
		return res, err
	}
	res.GitReadCPUMS, res.YAMLParseCPUMS, res.Cores = millis(gitCPU), millis(yamlCPU), benchCores()
	if res.CopyFloorMS > 0 {
		progress("insert floor")
		insert, err := st.InsertFloor(ctx)
		if err != nil {
			return res, err
		}
		lb := lowerBound(gitCPU, yamlCPU, insert, res.Cores)
		res.InsertFloorMS, res.LowerBoundMS = millis(insert), millis(lb)
		res.XLowerBound = res.LowerBoundMS / res.CopyFloorMS
	}
	counts, err := st.Counts(ctx)
	if err != nil {
		return res, err
	}
	if n := sumCounts(counts); n != stats.Total() {
		return res, fmt.Errorf("full sync stored %d entities, generated %d", n, stats.Total())
	}
	files := res.Files
	progress("no-op re-sync")
	if took, err = syncAll(func(r ingest.Result) error {
		if !r.NoOp {
			return fmt.Errorf("want a no-op, got %+v", r)
		}
		return nil
	}); err != nil {
		return res, err
	}
	res.NoopSyncMS, res.Files = millis(took), files

	progress("one-file change")
	services := stats["Component"]
	i := services / 2
	// A router whose view is warm, as serve's is, times the change into
	// answers too: the sync, then the view's next check and rebuild.
	va := &App{Config: DefaultConfig(), Env: &Env{Getenv: func(string) string { return "" }},
		Logger: slog.New(slog.DiscardHandler), Store: st}
	viewer, closeViewer := newRouter(va)
	defer closeViewer()
	ownerOf := func() string {
		rep := viewer.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, Text: "owner service-" + strconv.Itoa(i)})
		return rep.Title
	}
	before := ownerOf()
	newOwner := "team-0"
	if strings.Contains(before, "team-0") {
		newOwner = "team-1"
	}
	if _, _, err := synth.ChangeService(repos[i%len(repos)], i, newOwner, " (changed by bench)"); err != nil {
		return res, err
	}
	committed = va.catalogChanged // as serve's syncer does at the commit
	// The owner question is asked every 10 ms from the start of the sync,
	// as a user would: the change is in the answers once one shows it,
	// which may be before the sync returns (it saves its state after the
	// commit).
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	seen := make(chan time.Duration, 1)
	start = time.Now()
	go func() {
		for {
			if strings.Contains(ownerOf(), newOwner) {
				seen <- time.Since(start)
				return
			}
			select {
			case <-pollCtx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	r, err := syncer.Sync(ctx, sources[i%len(repos)])
	if err != nil {
		return res, err
	}
	if r.Full || r.NoOp || r.Updated == 0 {
		return res, fmt.Errorf("one-file change: want an incremental update, got %+v", r)
	}
	res.OneFileMS = millis(time.Since(start))
	va.catalogChanged() // and as serve's sync job does once the sync returned
	select {
	case d := <-seen:
		res.OneFileVisibleMS = millis(d)
	case <-time.After(time.Minute):
		return res, fmt.Errorf("one-file change: owner answer still %q a minute after the sync", ownerOf())
	}
	stopPolling()

	if err := benchSlack(ctx, o, st, services, &res, progress); err != nil {
		return res, err
	}

	progress("drift report")
	rp := newReporter(&App{Store: st, Logger: slog.New(slog.DiscardHandler)})
	for warm := range 2 {
		start = time.Now()
		fs, err := rp.findings(ctx, time.Time{}, drift.Filter{})
		if err != nil {
			return res, fmt.Errorf("drift report: %w", err)
		}
		if warm == 0 {
			res.ReportMS, res.Findings = millis(time.Since(start)), len(fs)
		} else {
			res.ReportWarmMS = millis(time.Since(start))
		}
	}
	res.PeakRSSMB = peakRSSMB()
	return res, nil
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// openBenchStore opens dbURL; for Postgres it creates a fresh schema and
// points search_path at it, and cleanup drops it.
func openBenchStore(ctx context.Context, dbURL string) (*sqlstore.Store, string, func(), error) {
	if strings.HasPrefix(dbURL, "sqlite:") {
		st, err := sqlstore.Open(ctx, dbURL)
		if err != nil {
			return nil, "", nil, fmt.Errorf("open database %s: %w", redactDB(dbURL), err)
		}
		return st, "sqlite", func() { st.Close() }, nil
	}
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return nil, "", nil, fmt.Errorf("--db: want postgres://... or sqlite:PATH, got %q", redactDB(dbURL))
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, "", nil, errors.New("--db: not a URL")
	}
	admin, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open database %s: %w", redactDB(dbURL), err)
	}
	schema := "portalbot_bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, "", nil, fmt.Errorf("create schema in %s: %w", redactDB(dbURL), err)
	}
	drop := func() {
		// Drop even when ctx was cancelled (Ctrl-C), or the schema stays.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "portalbot bench: drop schema %s: %v\n", schema, err)
		}
		admin.Close()
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := sqlstore.Open(ctx, u.String())
	if err != nil {
		drop()
		return nil, "", nil, fmt.Errorf("open database %s: %w", redactDB(dbURL), err)
	}
	return st, "postgres", func() { st.Close(); drop() }, nil
}

// peakRSSMB reads the process's peak resident set size (VmHWM) from
// /proc/self/status; 0 where there is no /proc.
// resetPeakRSS resets the process's VmHWM (Linux: "5" in clear_refs);
// elsewhere it does nothing and the peak covers the whole run.
func resetPeakRSS() {
	// Best effort: without it the figure is the whole process's peak.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
