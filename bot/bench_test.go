package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// runBenchJSON runs "portalbot bench --json" in-process on a small
// catalog and decodes its one line.
func runBenchJSON(t *testing.T, extra ...string) (BenchResult, map[string]any) {
	t.Helper()
	var out, errb bytes.Buffer
	args := append([]string{"bench", "--entities", "300", "--json", "--duration", "300ms", "--requests", "100", "--clients", "4"}, extra...)
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if code := Main(context.Background(), args, env); code != ExitOK {
		t.Fatalf("portalbot %s = exit %d, stderr:\n%s", strings.Join(args, " "), code, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("bench --json printed %d lines, want exactly 1:\n%s", len(lines), out.String())
	}
	var res BenchResult
	var raw map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &res); err != nil {
		t.Fatalf("bench --json line is not JSON: %v\n%s", err, lines[0])
	}
	if err := json.Unmarshal([]byte(lines[0]), &raw); err != nil {
		t.Fatal(err)
	}
	return res, raw
}

func checkBenchResult(t *testing.T, res BenchResult, raw map[string]any, db string) {
	t.Helper()
	for _, k := range []string{"entities", "repos", "db", "full_sync_ms", "noop_sync_ms", "one_file_ms",
		"owner_p50_ms", "owner_p99_ms", "owner_per_sec", "report_ms", "peak_rss_mb", "sync_peak_rss_mb", "one_file_visible_ms",
		"floor_p50_ms", "floor_p99_ms", "floor_per_sec", "owner_p99_ratio", "owner_throughput_ratio",
		"git_read_cpu_ms", "yaml_parse_cpu_ms", "cores"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("bench JSON lacks key %q: %v", k, raw)
		}
	}
	// synth's sizes land within a few entities of the request.
	if res.Entities < 290 || res.Entities > 310 || res.Repos != 1 || res.DB != db || res.Files == 0 {
		t.Errorf("bench catalog = %d entities, %d repos, db %q, %d files; want about 300, 1, %q, some", res.Entities, res.Repos, res.DB, res.Files, db)
	}
	positive := map[string]float64{
		"full_sync_ms": res.FullSyncMS, "noop_sync_ms": res.NoopSyncMS, "one_file_ms": res.OneFileMS,
		"owner_p50_ms": res.OwnerP50MS, "owner_p99_ms": res.OwnerP99MS, "owner_per_sec": res.OwnerPerSec,
		"report_ms": res.ReportMS, "peak_rss_mb": res.PeakRSSMB, "sync_peak_rss_mb": res.SyncPeakRSSMB, "one_file_visible_ms": res.OneFileVisibleMS,
		"floor_p50_ms": res.FloorP50MS, "floor_p99_ms": res.FloorP99MS, "floor_per_sec": res.FloorPerSec,
		"owner_p99_ratio": res.OwnerP99Ratio, "owner_throughput_ratio": res.OwnerThroughputRatio,
	}
	if db == "postgres" {
		positive["copy_floor_ms"], positive["x_copy_floor"] = res.CopyFloorMS, res.XCopyFloor
		positive["insert_floor_ms"], positive["lower_bound_ms"] = res.InsertFloorMS, res.LowerBoundMS
		want := math.Max(res.InsertFloorMS, (res.GitReadCPUMS+res.YAMLParseCPUMS+res.InsertFloorMS)/float64(res.Cores))
		if math.Abs(res.LowerBoundMS-want) > 0.01 {
			t.Errorf("bench lower_bound_ms = %v, want max(insert, (git + yaml + insert) / %d cores) = %v", res.LowerBoundMS, res.Cores, want)
		}
		if got, want := res.XLowerBound, res.LowerBoundMS/res.CopyFloorMS; got != want {
			t.Errorf("bench x_copy_floor_lower_bound = %v, want lower_bound_ms / copy_floor_ms = %v", got, want)
		}
	} else {
		for _, k := range []string{"copy_floor_ms", "insert_floor_ms", "lower_bound_ms"} {
			if _, ok := raw[k]; ok {
				t.Errorf("bench on %s reports %s, a Postgres-only figure", db, k)
			}
		}
	}
	positive["git_read_cpu_ms"], positive["yaml_parse_cpu_ms"] = res.GitReadCPUMS, res.YAMLParseCPUMS
	if res.Cores < 1 {
		t.Errorf("bench cores = %d, want the machine's CPUs", res.Cores)
	}
	for k, v := range positive {
		if !(v > 0) {
			t.Errorf("bench %s = %v, want > 0", k, v)
		}
	}
	if res.OwnerP99MS < res.OwnerP50MS {
		t.Errorf("bench owner p99 %v < p50 %v", res.OwnerP99MS, res.OwnerP50MS)
	}
	if got, want := res.OwnerP99Ratio, res.OwnerP99MS/res.FloorP99MS; got != want {
		t.Errorf("bench owner_p99_ratio = %v, want owner_p99_ms / floor_p99_ms = %v", got, want)
	}
	if got, want := res.OwnerThroughputRatio, res.OwnerPerSec/res.FloorPerSec; got != want {
		t.Errorf("bench owner_throughput_ratio = %v, want owner_per_sec / floor_per_sec = %v", got, want)
	}
	if res.OwnerN != 100 {
		t.Errorf("bench owner_requests = %d, want 100", res.OwnerN)
	}
	if res.PeakRSSMB > 4096 {
		t.Errorf("bench peak_rss_mb = %v for 300 entities, want a sane figure", res.PeakRSSMB)
	}
	// The generated CODEOWNERS disagrees with some spec.owner values, so
	// the drift rules always find something.
	if res.Findings == 0 {
		t.Errorf("bench report_findings = 0, want the generated catalog's drift")
	}
}

func TestBenchJSONSQLite(t *testing.T) {
	res, raw := runBenchJSON(t)
	checkBenchResult(t, res, raw, "sqlite")
}

func TestBenchJSONPostgresDropsItsSchema(t *testing.T) {
	dsn := sqlstoretest.PostgresDSN(t)
	db := sqlx.MustOpen("postgres", dsn)
	defer db.Close()
	countSchemas := func() int {
		var n int
		if err := db.Get(&n, "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'portalbot_bench_%'"); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countSchemas()
	res, raw := runBenchJSON(t, "--db", dsn)
	checkBenchResult(t, res, raw, "postgres")
	if after := countSchemas(); after > before {
		t.Errorf("bench left %d portalbot_bench_ schema(s) behind, had %d before", after, before)
	}
}

// TestBenchFloorVerifies checks that the floor does the work it stands
// for: a request it cannot verify is refused, a signed one is answered from
// the database.
func TestBenchFloorVerifies(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	ents, errs := catalog.Parse(strings.NewReader("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: service-1\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"), "c.yaml")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{Source: catalog.Source{Name: "s"}, Full: true,
		Files: []catalog.FileResult{{Path: "c.yaml", Entities: ents}}}); err != nil {
		t.Fatal(err)
	}
	h := floorHandler(st.DB(), benchSecret)
	body := "command=%2Fportal&text=owner+service-1"
	for _, tt := range []struct {
		name, secret string
		age          time.Duration
		want         int
	}{
		{"signed", benchSecret, 0, http.StatusOK},
		{"other secret", "other", 0, http.StatusUnauthorized},
		{"stale", benchSecret, 6 * time.Minute, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, sig := slackadapter.NewVerifier(tt.secret, nil).Sign(time.Now().Add(-tt.age), []byte(body))
			req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", sig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("floor answered %d %q, want %d", rec.Code, rec.Body.String(), tt.want)
			}
			if tt.want == http.StatusOK && !strings.Contains(rec.Body.String(), "service-1 is owned by group:default/team-a") {
				t.Errorf("floor answered %q, want the owner", rec.Body.String())
			}
		})
	}
}

func TestBenchHelpAndBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb}
	if code := Main(context.Background(), []string{"bench", "--help"}, env); code != ExitOK {
		t.Errorf("bench --help = exit %d, want %d", code, ExitOK)
	}
	help := out.String() + errb.String()
	for _, want := range []string{"--entities", "--repos", "--db", "--json", "--clients", "--duration", "fresh schema", "p50/p99"} {
		if !strings.Contains(help, want) {
			t.Errorf("bench --help lacks %q:\n%s", want, help)
		}
	}
	for _, args := range [][]string{{"bench", "--entities", "0"}, {"bench", "--clients", "0"}, {"bench", "extra"}} {
		errb.Reset()
		if code := Main(context.Background(), args, env); code != ExitUsage {
			t.Errorf("portalbot %v = exit %d, want %d", args, code, ExitUsage)
		}
	}
}
