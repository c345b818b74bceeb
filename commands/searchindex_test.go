package commands

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// TestFindMatchesScan checks search's indexed, top-k find against scoring
// every entry and sorting all hits, on generated entities and queries.
func TestFindMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	words := []string{"payments", "Ledger", "checkout", "api", "db", "worker", "search", "auth", "billing", "team", "svc", "Ünïcode", "go", "java", "events"}
	pick := func(n int) []string {
		var out []string
		for range n {
			out = append(out, words[rng.IntN(len(words))])
		}
		return out
	}
	kinds := []string{catalog.KindComponent, catalog.KindAPI, catalog.KindGroup, catalog.KindSystem}
	var sums []catalog.Summary
	for i := range 2000 {
		sm := catalog.Summary{
			Ref:         catalog.Ref{Kind: kinds[rng.IntN(len(kinds))], Namespace: "default", Name: strings.ToLower(strings.Join(pick(1+rng.IntN(2)), "-")) + fmt.Sprint("-", i)},
			Title:       strings.Join(pick(rng.IntN(3)), " "),
			Description: strings.Join(pick(rng.IntN(6)), " "),
			Tags:        pick(rng.IntN(3)),
		}
		if rng.IntN(4) > 0 {
			sm.Owner = "group:default/" + strings.ToLower(words[rng.IntN(len(words))])
		}
		sums = append(sums, sm)
	}
	s := buildSnapshot(1, sums)

	scan := func(terms []string, k int) ([]hit, int) {
		var hits []hit
		for i := range s.entries {
			total := 0
			for _, t := range terms {
				sc := s.entries[i].score(t)
				if sc == 0 {
					total = 0
					break
				}
				total += sc
			}
			if total > 0 {
				hits = append(hits, hit{i, total})
			}
		}
		sort.Slice(hits, func(a, b int) bool {
			if hits[a].score != hits[b].score {
				return hits[a].score > hits[b].score
			}
			return s.less(hits[a].i, hits[b].i)
		})
		return hits[:min(len(hits), k)], len(hits)
	}
	queries := [][]string{{"a"}, {"go"}, {"zzz"}, {"ünï"}, {"payments", "api"}, {"ay", "ledger"}, {"-1"}, {"12"}, {"123"}}
	for range 500 {
		var q []string
		for range 1 + rng.IntN(2) {
			w := strings.ToLower(words[rng.IntN(len(words))])
			lo := rng.IntN(len(w))
			hi := lo + 1 + rng.IntN(len(w)-lo)
			q = append(q, w[lo:hi])
		}
		queries = append(queries, q)
	}
	for _, q := range queries {
		for _, k := range []int{1, 10} {
			got, gotN := s.find(q, k)
			want, wantN := scan(q, k)
			if fmt.Sprint(got) != fmt.Sprint(want) || gotN != wantN {
				t.Errorf("find(%q, %d) = %v, %d; want %v, %d (scan)", q, k, got, gotN, want, wantN)
			}
		}
	}
}
