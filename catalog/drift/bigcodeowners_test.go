package drift_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// bigCodeOwnersSize is the CODEOWNERS size of the tests below: over the
// 1 MiB that sync used to read, under GitHub's 3 MB limit.
const bigCodeOwnersSize = 2_800_000

// serviceLine is a line synth writes for each service: its directory and
// the service's owner team.
var serviceLine = regexp.MustCompile(`^/services/service-(\d+)/ @acme/(team-\d+)$`)

// bigCodeOwnersRepo generates a catalog of about n entities in one
// repository and commits a CODEOWNERS of bigCodeOwnersSize bytes: synth's
// line per service, where every seventh service's line names another team,
// then lines for library directories outside the catalog, literal and
// wildcard, as a monorepo has. It returns the repository and the
// codeowners-mismatch findings a report must have: the Component and the
// API of each such service.
func bigCodeOwnersRepo(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	repos, err := synth.Generate(tb.TempDir(), synth.Options{Entities: n, Repos: 1, Seed: 11})
	if err != nil {
		tb.Fatal(err)
	}
	old, err := synth.ReadFile(repos[0], "CODEOWNERS")
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	var want []string
	for _, line := range strings.Split(strings.TrimSuffix(string(old), "\n"), "\n") {
		m := serviceLine.FindStringSubmatch(line)
		if m == nil {
			b.WriteString(line + "\n")
			continue
		}
		i, _ := strconv.Atoi(m[1])
		team := m[2]
		if i%7 == 3 {
			team = "team-0"
			if m[2] == "team-0" {
				team = "team-1"
			}
			svc := fmt.Sprintf("service-%d", i)
			want = append(want, catalog.Ref{Kind: "Component", Namespace: "default", Name: svc}.String(),
				catalog.Ref{Kind: "API", Namespace: "default", Name: svc + "-api"}.String())
		}
		fmt.Fprintf(&b, "/services/service-%d/ @acme/%s\n", i, team)
	}
	for i := 0; b.Len() < bigCodeOwnersSize; i++ {
		if i%10 == 9 {
			fmt.Fprintf(&b, "/libs/lib-%06d/**/*.proto @acme/team-%d\n", i, i%3)
		} else {
			fmt.Fprintf(&b, "/libs/lib-%06d/ @acme/team-%d\n", i, i%3)
		}
	}
	if _, err := synth.Commit(repos[0], "large CODEOWNERS", map[string]synth.Change{"CODEOWNERS": synth.Write(b.String())}); err != nil {
		tb.Fatal(err)
	}
	slices.Sort(want)
	return repos[0], want
}

// codeOwnersMismatches returns the sorted entities of the
// codeowners-mismatch findings of a report on s.
func codeOwnersMismatches(tb testing.TB, s *drift.Snapshot) []string {
	tb.Helper()
	fs, err := s.Report(drift.DefaultRules(), drift.Filter{})
	if err != nil {
		tb.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		if f.Drift == drift.RuleCodeOwnersMismatch {
			got = append(got, f.Entity)
		}
	}
	slices.Sort(got)
	return got
}

func syncRepo(tb testing.TB, st catalog.Store, repo string) {
	tb.Helper()
	res, err := ingest.New(st, ingest.Options{}).Sync(context.Background(), ingest.Source{Name: "acme/mono", Repo: repo})
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Errors) > 0 || len(res.Warnings) > 0 {
		tb.Fatalf("Sync: errors %v, warnings %v", res.Errors, res.Warnings)
	}
}

// TestReportLargeCodeOwners syncs a catalog whose CODEOWNERS is 2.8 MB and
// checks that the report finds every codeowners-mismatch, and nothing
// else of that rule. Sync used to drop any CODEOWNERS over 1 MiB, in
// silence, and the rule then found nothing.
func TestReportLargeCodeOwners(t *testing.T) {
	repo, want := bigCodeOwnersRepo(t, 1500)
	if len(want) < 100 {
		t.Fatalf("generated %d mismatches, want a test that can fail", len(want))
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open := map[string]func(testing.TB) *sqlstore.Store{"sqlite": sqlstoretest.OpenSQLite, "postgres": sqlstoretest.OpenPostgres}[name]
		t.Run(name, func(t *testing.T) {
			st := open(t)
			syncRepo(t, st, repo)
			s, err := drift.Load(context.Background(), st, drift.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := codeOwnersMismatches(t, s); !slices.Equal(got, want) {
				t.Errorf("codeowners-mismatch findings: %d, want %d; first got %v, first want %v", len(got), len(want), first(got), first(want))
			}
		})
	}
}

func first(s []string) []string { return s[:min(len(s), 4)] }

// BenchmarkReportLargeCodeOwners is the case at full size: a
// 100,000-entity catalog with a 2.8 MB CODEOWNERS, synced from Git, then
// a whole report (load and every rule), which must find every
// codeowners-mismatch. Run with -bench ReportLargeCodeOwners -benchtime 3x.
func BenchmarkReportLargeCodeOwners(b *testing.B) {
	repo, want := bigCodeOwnersRepo(b, 100_000)
	for _, name := range []string{"sqlite", "postgres"} {
		open := map[string]func(testing.TB) *sqlstore.Store{"sqlite": sqlstoretest.OpenSQLite, "postgres": sqlstoretest.OpenPostgres}[name]
		b.Run(name, func(b *testing.B) {
			st := open(b)
			start := time.Now()
			syncRepo(b, st, repo)
			counts, err := st.Counts(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			total := 0
			for _, c := range counts {
				total += c
			}
			b.Logf("synced %d entities in %v", total, time.Since(start).Round(time.Millisecond))
			b.ReportAllocs()
			for b.Loop() {
				s, err := drift.Load(context.Background(), st, drift.LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if got := codeOwnersMismatches(b, s); !slices.Equal(got, want) {
					b.Fatalf("codeowners-mismatch findings: %d, want %d", len(got), len(want))
				}
			}
			b.ReportMetric(float64(len(want)), "mismatches")
		})
	}
}
