package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
)

// driftFixture is the drift package's fixture catalog, with one injected
// finding of each kind but owner-changed (see catalog/drift/testdata).
var driftFixture = filepath.Join("..", "catalog", "drift", "testdata")

// driftMapping is the CODEOWNERS mapping the fixture relies on.
var driftMapping = map[string]string{"@acme/money": "group:default/billing"}

// loadDriftFixture applies the fixture as one full sync of source
// "acme/catalog" at commit; edit rewrites files (by slash path) first.
func loadDriftFixture(tb testing.TB, st catalog.Store, commit string, edit func(path, data string) string) {
	tb.Helper()
	dir := filepath.Join(driftFixture, "catalog")
	co, err := os.ReadFile(filepath.Join(driftFixture, "CODEOWNERS"))
	if err != nil {
		tb.Fatal(err)
	}
	files := catalogtest.ReadDir(tb, dir, edit)
	for _, f := range files {
		if len(f.Errors) > 0 {
			tb.Fatalf("fixture %s: %v", f.Path, f.Errors)
		}
		for _, e := range f.Entities {
			e.Origin.Source, e.Origin.Commit = "acme/catalog", commit
		}
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "acme/catalog", Repo: "https://github.com/acme/catalog.git", Branch: "main", Commit: commit, CodeOwners: string(co)},
		Full:   true,
		Files:  files,
	}); err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
}

// moveCheckout is the second sync's edit: the checkout system moves from
// payments to search, an owner change.
func moveCheckout(path, data string) string {
	if path == "systems/checkout.yaml" {
		return strings.Replace(data, "owner: payments", "owner: search", 1)
	}
	return data
}

// fakeSlack is a Slack Web API server speaking chat.postMessage's real
// JSON. It records every post; fail, when set, decides per call whether to
// answer an error instead.
type fakeSlack struct {
	srv *httptest.Server
	mu  sync.Mutex
	// posts are the successful posts, in order; guarded by mu.
	posts []slackPost
	calls int // guarded by mu
	fail  func(call int) string
	files slackFiles
}

type slackPost struct {
	Channel, Text, Blocks string
}

func newFakeSlack(t *testing.T, fail func(call int) string) *fakeSlack {
	f := &fakeSlack{fail: fail}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.files.serve(w, r, f.srv.URL) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/chat.postMessage" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("fake slack: parse form: %v", err)
		}
		f.mu.Lock()
		f.calls++
		call := f.calls
		msg := ""
		if f.fail != nil {
			msg = f.fail(call)
		}
		if msg == "" {
			f.posts = append(f.posts, slackPost{Channel: r.Form.Get("channel"), Text: r.Form.Get("text"), Blocks: r.Form.Get("blocks")})
		}
		f.mu.Unlock()
		if msg != "" {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": msg})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": "1700000000.0001" + string(rune('0'+call%10))})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) Posts() []slackPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackPost(nil), f.posts...)
}

// poster returns the Slack adapter's real Poster pointed at the fake.
func (f *fakeSlack) poster() commands.Poster {
	api := slackgo.New("xoxb-test", slackgo.OptionAPIURL(f.srv.URL+"/api/"))
	return slackadapter.NewPoster(api, nil)
}

// testReporter is one replica: its own holder, posting through p.
func testReporter(st runStore, p commands.Poster, holder string) *reporter {
	return &reporter{
		store:     st,
		posters:   map[string]commands.Poster{"slack": p},
		cfg:       ReportsConfig{CodeOwnersMapping: driftMapping},
		portalURL: "https://portal.example.com",
		holder:    holder,
		logger:    slog.New(slog.DiscardHandler),
		rules:     drift.DefaultRules(),
		now:       time.Now,
		cache:     drift.NewCache(st, driftMapping),
	}
}

// secondStore opens another Store (its own connection pool, as another
// replica would have) on the schema st uses.
func secondStore(t *testing.T, st *sqlstore.Store) *sqlstore.Store {
	t.Helper()
	var schema string
	if err := st.DB().Get(&schema, "SELECT current_schema()"); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sqlstoretest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st2, err := sqlstore.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	return st2
}

func TestScheduledReportPostsOncePerTick(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	loadDriftFixture(t, st, "c1", nil)
	slack := newFakeSlack(t, nil)
	// Two replicas: separate stores and posters, one database, one Slack.
	replicas := []*reporter{
		testReporter(st, slack.poster(), "replica-a"),
		testReporter(secondStore(t, st), slack.poster(), "replica-b"),
	}
	target := ReportTarget{Name: "weekly", Platform: "slack", Channel: "C0REPORTS", Schedule: "0 9 * * 1"}
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for i := range 3 {
		tick := base.AddDate(0, 0, 7*i)
		outcomes := make([]string, len(replicas))
		var wg sync.WaitGroup
		for r, rp := range replicas {
			wg.Go(func() {
				out, err := rp.runTarget(ctx, target, tick)
				if err != nil {
					t.Errorf("replica %d: runTarget(%s) error: %v", r, tick, err)
				}
				outcomes[r] = out
			})
		}
		wg.Wait()
		sort.Strings(outcomes)
		if want := []string{outcomePosted, outcomeSkipped}; !slices.Equal(outcomes, want) {
			t.Errorf("tick %s: outcomes %v, want %v", tick, outcomes, want)
		}
	}
	posts := slack.Posts()
	if len(posts) != 3 {
		t.Fatalf("fake Slack got %d posts, want 3 (one per tick)", len(posts))
	}
	for _, p := range posts {
		if p.Channel != "C0REPORTS" {
			t.Errorf("post to %q, want C0REPORTS", p.Channel)
		}
		for _, want := range []string{"Ownership drift report: weekly", "orphan-svc", "group:default/payments", "https://github.com/acme/catalog/blob/main/services/ledger/catalog-info.yaml#L1"} {
			if !strings.Contains(p.Text+p.Blocks, want) {
				t.Errorf("post lacks %q:\n%s\n%s", want, p.Text, p.Blocks)
			}
		}
	}

	// A restarted replica (new holder) finds the tick done: nothing twice.
	restarted := testReporter(st, slack.poster(), "replica-a-restarted")
	if out, err := restarted.runTarget(ctx, target, base); err != nil || out != outcomeSkipped {
		t.Errorf("after restart: runTarget(first tick) = %q, %v; want %q, nil", out, err, outcomeSkipped)
	}
	if n := len(slack.Posts()); n != 3 {
		t.Errorf("after restart: %d posts, want still 3", n)
	}
}

func TestScheduledReportRetriesFailedPost(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	loadDriftFixture(t, st, "c1", nil)
	slack := newFakeSlack(t, func(call int) string {
		if call == 1 {
			return "channel_not_found"
		}
		return ""
	})
	rp := testReporter(st, slack.poster(), "replica-a")
	target := ReportTarget{Name: "daily", Platform: "slack", Channel: "C0REPORTS", Schedule: "0 9 * * *"}
	job := targetJob(target)
	ctx := context.Background()
	t1 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)

	out, err := rp.runTarget(ctx, target, t1)
	if err == nil || !strings.Contains(err.Error(), "channel_not_found") || out != outcomeError {
		t.Fatalf("runTarget(t1) = %q, %v; want %q and the Slack error", out, err, outcomeError)
	}
	failed, err := st.FailedRuns(ctx, job)
	if err != nil || len(failed) != 1 || !failed[0].Equal(t1) {
		t.Fatalf("FailedRuns after a failed post = %v, %v; want [%s]", failed, err, t1)
	}
	var recorded string
	if err := st.DB().Get(&recorded, st.DB().Rebind("SELECT error FROM job_runs WHERE job = ? AND status = 'failed'"), job); err != nil || !strings.Contains(recorded, "channel_not_found") {
		t.Errorf("recorded failure = %q, %v; want the Slack error", recorded, err)
	}

	out, err = rp.runTarget(ctx, target, t2)
	if err != nil || out != outcomePosted {
		t.Fatalf("runTarget(t2) = %q, %v; want %q", out, err, outcomePosted)
	}
	posts := slack.Posts()
	if len(posts) != 1 || !strings.Contains(posts[0].Text+posts[0].Blocks, "earlier report") {
		t.Fatalf("posts after retry = %+v, want one that also delivers the failed report", posts)
	}
	if failed, err := st.FailedRuns(ctx, job); err != nil || len(failed) != 0 {
		t.Errorf("FailedRuns after the retry = %v, %v; want none", failed, err)
	}
	if last, err := st.LastRun(ctx, job, sqlstore.RunSucceeded); err != nil || !last.Equal(t2) {
		t.Errorf("LastRun(succeeded) = %v, %v; want %s", last, err, t2)
	}
	if _, err := st.LastRun(ctx, job, sqlstore.RunFailed); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("LastRun(failed) error = %v, want ErrNotFound (t1 delivered by t2's post)", err)
	}
	// Neither tick is posted again.
	for _, tick := range []time.Time{t1, t2} {
		if out, err := rp.runTarget(ctx, target, tick); err != nil || out != outcomeSkipped {
			t.Errorf("runTarget(%s) again = %q, %v; want %q", tick, out, err, outcomeSkipped)
		}
	}
	if n := len(slack.Posts()); n != 1 {
		t.Errorf("%d posts in all, want 1", n)
	}
}

func TestScheduledReportOwnerChangesSincePreviousReport(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadDriftFixture(t, st, "c1", nil)
	slack := newFakeSlack(t, nil)
	rp := testReporter(st, slack.poster(), "replica-a")
	target := ReportTarget{Name: "changes", Platform: "slack", Channel: "C0CHANGES", Schedule: "* * * * *", Rules: []string{"owner-changed"}, Empty: "oneline"}
	ctx := context.Background()

	// First report: no owner change yet, a one-liner.
	t1 := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	if out, err := rp.runTarget(ctx, target, t1); err != nil || out != outcomeEmpty {
		t.Fatalf("runTarget(t1) = %q, %v; want %q", out, err, outcomeEmpty)
	}
	loadDriftFixture(t, st, "c2", moveCheckout)
	t2 := t1.Add(time.Minute)
	if out, err := rp.runTarget(ctx, target, t2); err != nil || out != outcomePosted {
		t.Fatalf("runTarget(t2) = %q, %v; want %q", out, err, outcomePosted)
	}
	posts := slack.Posts()
	if len(posts) != 2 {
		t.Fatalf("%d posts, want 2", len(posts))
	}
	if !strings.Contains(posts[0].Text+posts[0].Blocks, "No ownership drift found") {
		t.Errorf("first post = %+v, want the one-liner", posts[0])
	}
	if got := posts[1].Text + posts[1].Blocks; !strings.Contains(got, "checkout moved from payments to search") || !strings.Contains(got, "1 new, 0 fixed") {
		t.Errorf("second post lacks the checkout owner change:\n%s", got)
	}
	// One finding is shown in full: one message, nothing attached.
	if ups := slack.files.uploads(); len(ups) != 0 {
		t.Errorf("uploads = %+v, want none for a report the message shows in full", ups)
	}
}

func TestTeamDigests(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadDriftFixture(t, st, "c1", nil)
	slack := newFakeSlack(t, nil)
	rp := testReporter(st, slack.poster(), "replica-a")
	// payments and search name their channels by annotation; ghosts-team's
	// comes from config; billing has none and gets nothing.
	d := TeamDigestConfig{Platform: "slack", Schedule: "0 9 * * 1", Channels: map[string]string{"ghosts-team": "C0GHOSTS"}, Empty: "oneline"}
	ctx := context.Background()
	tick := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	n, err := rp.runDigests(ctx, d, tick)
	if err != nil || n != 3 {
		t.Fatalf("runDigests = %d, %v; want 3 teams, nil", n, err)
	}
	byChannel := map[string]string{}
	for _, p := range slack.Posts() {
		byChannel[p.Channel] += p.Text + p.Blocks
	}
	checks := map[string][]string{
		"C0PAYMENTS": {"group:default/payments", "ledger", "mail", "codeowners-mismatch"},
		"C0GHOSTS":   {"group:default/ghosts-team", "legacy", "owner-empty-group"},
		"C0SEARCH":   {"No ownership drift found"},
	}
	if len(byChannel) != len(checks) {
		t.Errorf("digests went to %d channels, want %d: %v", len(byChannel), len(checks), byChannel)
	}
	for ch, wants := range checks {
		for _, w := range wants {
			if !strings.Contains(byChannel[ch], w) {
				t.Errorf("digest in %s lacks %q:\n%s", ch, w, byChannel[ch])
			}
		}
	}
	if strings.Contains(byChannel["C0PAYMENTS"], "legacy") {
		t.Errorf("payments digest holds another team's finding:\n%s", byChannel["C0PAYMENTS"])
	}
	if n, err := rp.runDigests(ctx, d, tick); err != nil || n != 0 {
		t.Errorf("runDigests(same tick) = %d, %v; want 0, nil", n, err)
	}
	if got := len(slack.Posts()); got != 3 {
		t.Errorf("%d posts after the repeated tick, want 3", got)
	}
}

func TestReportsPartTwoReplicas(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	loadDriftFixture(t, st, "c1", nil)
	slack := newFakeSlack(t, nil)
	cfg := DefaultConfig()
	// Every second, so the test sees many ticks, each claimed by both
	// replicas.
	cfg.Reports = ReportsConfig{
		CodeOwnersMapping: driftMapping,
		Targets:           []ReportTarget{{Name: "fast", Platform: "slack", Channel: "C0FAST", Schedule: "@every 1s"}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range []*sqlstore.Store{st, secondStore(t, st)} {
		a := &App{Config: cfg, Logger: slog.New(slog.DiscardHandler), Store: s, Holder: "replica-" + string(rune('a'+i)),
			Posters: map[string]commands.Poster{"slack": slack.poster()}, Metrics: NewMetrics()}
		parts, err := jobParts(ctx, a)
		if err != nil || len(parts) != 1 {
			t.Fatalf("jobParts = %d parts, %v", len(parts), err)
		}
		wg.Go(func() {
			if err := parts[0](ctx); err != nil {
				t.Errorf("reports part: %v", err)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(slack.Posts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // several more ticks of both replicas
	cancel()
	wg.Wait()
	// "@every 1s" ticks are whole seconds (scheduleTick): at most one post
	// per second between the two replicas.
	seconds := int(time.Now().Truncate(time.Second).Sub(start.Truncate(time.Second))/time.Second) + 1
	if n := len(slack.Posts()); n < 1 || n > seconds {
		t.Errorf("two replicas posted %d times over %d distinct second(s), want at most one post per second", n, seconds)
	}
}

func TestReportsPartRejectsBadFilters(t *testing.T) {
	for _, tt := range []struct {
		target ReportTarget
		want   string
	}{
		{ReportTarget{Name: "typo", Platform: "slack", Channel: "C1", Schedule: "0 9 * * *", Rules: []string{"unknown-ownr"}}, `unknown rule "unknown-ownr"`},
		{ReportTarget{Name: "badteam", Platform: "slack", Channel: "C1", Schedule: "0 9 * * *", Teams: []string{"a:b:c"}}, "teams"},
	} {
		cfg := DefaultConfig()
		cfg.Reports.Targets = []ReportTarget{tt.target}
		a := &App{Config: cfg, Store: sqlstoretest.OpenSQLite(t), Posters: map[string]commands.Poster{}}
		if _, err := jobParts(context.Background(), a); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("jobParts(%s) error = %v, want %q", tt.target.Name, err, tt.want)
		}
	}
}

// TestWeeklyReportAttachesTrendChart posts two weekly reports of a
// target with chart: true: each attaches a PNG of findings per rule drawn
// from the recorded runs, and the second counts what is new and fixed.
func TestWeeklyReportAttachesTrendChart(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadDriftFixture(t, st, "c1", nil)
	slack := newFakeSlack(t, nil)
	rp := testReporter(st, slack.poster(), "replica-a")
	target := ReportTarget{Name: "weekly", Platform: "slack", Channel: "C0WEEKLY", Schedule: "0 9 * * 1", Chart: true}
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Minute).AddDate(0, 0, -7)
	for w := range 2 {
		if w == 1 {
			// The ledger's CODEOWNERS mismatch is fixed in week 2.
			loadDriftFixture(t, st, "c2", func(path, data string) string {
				if path == "services/ledger/catalog-info.yaml" {
					return strings.Replace(data, "owner: payments", "owner: search", 1)
				}
				return data
			})
		}
		if out, err := rp.runTarget(ctx, target, base.AddDate(0, 0, 7*w)); err != nil || out != outcomePosted {
			t.Fatalf("week %d: runTarget = %q, %v", w, out, err)
		}
	}
	var charts [][]byte
	for _, u := range slack.files.uploads() {
		if u.Name == "drift-trend.png" {
			charts = append(charts, u.Data)
		}
	}
	if len(charts) != 2 {
		t.Fatalf("%d charts uploaded, want one per weekly report", len(charts))
	}
	for i, c := range charts {
		if _, err := png.Decode(bytes.NewReader(c)); err != nil {
			t.Errorf("chart %d is not a PNG: %v", i, err)
		}
	}
	posts := slack.Posts()
	// The ledger's mismatch is fixed; its owner change is new.
	if got := posts[1].Blocks; !strings.Contains(got, "1 new, 1 fixed") || !strings.Contains(got, "New since the last report*\\n• owner-changed: ledger") {
		t.Errorf("week 2 summary lacks \"1 new, 1 fixed\" and the owner change:\n%s", got)
	}
	runs, err := st.ReportRuns(ctx, targetJob(target), time.Time{})
	if err != nil || len(runs) != 2 || runs[0].Counts[drift.RuleCodeOwnersMismatch] != 2 || runs[1].Counts[drift.RuleCodeOwnersMismatch] != 1 {
		t.Errorf("recorded runs = %+v, %v; want 2 with the mismatch count going from 2 to 1", runs, err)
	}
}

func TestReportsPartAcceptsActivityRule(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Reports.Targets = []ReportTarget{{Name: "activity", Platform: "slack", Channel: "C1", Schedule: "0 9 * * 1", Rules: []string{drift.RuleActivityOwnerMismatch}}}
	a := &App{Config: cfg, Store: sqlstoretest.OpenSQLite(t), Posters: map[string]commands.Poster{}}
	if _, err := jobParts(context.Background(), a); err != nil {
		t.Errorf("jobParts(rules: [%s]) = %v, want it accepted", drift.RuleActivityOwnerMismatch, err)
	}
}

func TestConfigActivity(t *testing.T) {
	for _, tt := range []struct {
		yaml, wantErr string
	}{
		{"reports:\n  activity:\n    days: 30\n    half_life: 720h\n    aliases: {\"a@x.org\": user:default/ann}\n", ""},
		{"reports:\n  activity:\n    min_share: 1.5\n", "reports.activity"},
		{"reports:\n  activity:\n    aliases: {\"a@x.org\": \"a:b:c\"}\n", "reports.activity.aliases"},
	} {
		path := filepath.Join(t.TempDir(), "portalbot.yaml")
		if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path, func(string) string { return "" })
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("LoadConfig(%q) = %v, want no error", tt.yaml, err)
		case tt.wantErr == "" && (cfg.Reports.Activity.Days != 30 || cfg.Reports.Activity.HalfLife != 720*time.Hour):
			t.Errorf("LoadConfig(%q) activity = %+v, want days 30 and half-life 720h", tt.yaml, cfg.Reports.Activity)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("LoadConfig(%q) = %v, want an error naming %s", tt.yaml, err, tt.wantErr)
		}
	}
}
