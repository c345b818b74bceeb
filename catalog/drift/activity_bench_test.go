package drift_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/ingest"
)

// benchCommits is the history read per source: the rule's default limit.
const benchCommits = 10000

// syntheticHistory returns benchCommits commits per source, spread over
// the last 90 days, each by one of the catalog's users and changing a file
// of one service of loadBenchCatalog's layout (teams/team-T/svc-C/). It
// stands in for the Git reader, to time the rule alone.
type syntheticHistory struct{ now time.Time }

func (h syntheticHistory) Commits(ctx context.Context, src catalog.Source, since time.Time, max int) ([]catalog.Commit, error) {
	if !strings.HasPrefix(src.Name, "acme/repo-") {
		return nil, nil
	}
	var r int
	fmt.Sscanf(src.Name, "acme/repo-%d", &r)
	teamsPerRepo := benchGroups / benchRepos
	out := make([]catalog.Commit, 0, min(max, benchCommits))
	for i := range min(max, benchCommits) {
		c := (i * 7919) % 900 // one of 900 services of this repo: about 11 commits each
		team := r*teamsPerRepo + c%teamsPerRepo
		user := (team + 1) % benchGroups // mostly a neighbour team's member
		if i%3 == 0 {
			user = team
		}
		user += benchGroups * (i % (benchUsers / benchGroups))
		out = append(out, catalog.Commit{
			Hash: fmt.Sprintf("%040x", i), AuthorEmail: fmt.Sprintf("user-%d@example.com", user),
			At:    h.now.Add(-time.Duration(i) * 90 * 24 * time.Hour / benchCommits),
			Paths: []string{fmt.Sprintf("teams/team-%d/svc-%d/src/main.go", team, c), fmt.Sprintf("teams/team-%d/svc-%d/README.md", team, c)},
		})
	}
	return out, nil
}

// BenchmarkActivity times activity-owner-mismatch at the scale:
// "rule" is a cold load plus every rule on benchEntities entities with
// benchCommits commits per source (the Git read replaced by a synthetic
// history); "history/first" reads benchCommits real commits (tree diffs
// included) from a packed repository with go-git; "history/incremental"
// is the next report's read after 100 new commits.
func BenchmarkActivity(b *testing.B) {
	now := time.Now()
	b.Run("rule", func(b *testing.B) {
		st := sqlstoretest.OpenSQLite(b)
		n := loadBenchCatalog(b, st, benchEntities)
		ctx := context.Background()
		opt := drift.LoadOptions{Since: now, Activity: drift.ActivityOptions{History: syntheticHistory{now: now}, Now: now}}
		rule := drift.Filter{Rules: []string{drift.RuleActivityOwnerMismatch}}
		b.Run(fmt.Sprintf("cold/entities=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := drift.Load(ctx, st, opt)
				if err != nil {
					b.Fatal(err)
				}
				fs, err := s.Report(drift.DefaultRules(), rule)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(fs)), "findings")
			}
		})
		s, err := drift.Load(ctx, st, opt)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rule-only/entities=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fs, err := s.Report(drift.DefaultRules(), rule)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(fs)), "findings")
			}
		})
	})
	b.Run("history", func(b *testing.B) {
		g := newGitRepo(b)
		for i := range benchCommits {
			c := (i * 7919) % 4500
			g.commit(fmt.Sprintf("teams/team-%d/svc-%d/src/f%d.go", c%100, c, i%3), fmt.Sprintf("user-%d@example.com", i%1000), 89*float64(benchCommits-i)/benchCommits+0.5)
		}
		head := g.flush()
		src := catalog.Source{Name: "bench", Repo: g.dir, Commit: head}
		since := activityNow.Add(-90 * 24 * time.Hour)
		ctx := context.Background()
		b.Run(fmt.Sprintf("first/commits=%d", benchCommits), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				cs, err := ingest.NewHistoryReader(b.TempDir()).Commits(ctx, src, since, benchCommits)
				if err != nil || len(cs) != benchCommits {
					b.Fatalf("Commits = %d, %v", len(cs), err)
				}
			}
			// CPU time tells the work apart from waiting on a shared machine.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
		})
		hr := ingest.NewHistoryReader(b.TempDir())
		if _, err := hr.Commits(ctx, src, since, benchCommits); err != nil {
			b.Fatal(err)
		}
		b.Run("incremental/new=100", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				for i := range 100 {
					g.write(fmt.Sprintf("teams/team-%d/svc-%d/src/new.go", i%100, i), "user-1@example.com", 0.4-float64(i)/1000)
				}
				src.Commit = g.pack()
				b.StartTimer()
				if _, err := hr.Commits(ctx, src, since, benchCommits); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
