package view

import (
	"context"
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

// TestCompleteMatchesScan checks type-ahead through the name index
// against offering from every entry in order.
func TestCompleteMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 42))
	words := []string{"payments", "ledger", "checkout", "api", "db", "worker", "ünï", "team"}
	kinds := []string{catalog.KindComponent, catalog.KindAPI, catalog.KindGroup}
	var sums []catalog.Summary
	for i := range 1500 {
		n := words[rng.IntN(len(words))] + "-" + words[rng.IntN(len(words))]
		if rng.IntN(2) == 0 {
			n += fmt.Sprint("-", i%300)
		}
		sums = append(sums, catalog.Summary{Ref: catalog.Ref{Kind: kinds[rng.IntN(len(kinds))], Namespace: "default", Name: n}})
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].Ref.String() < sums[j].Ref.String() })
	x := New(Params{Store: &countingStore{gen: 1, sums: sums}})
	s, err := x.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keys := func(es []*Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Key())
		}
		return out
	}
	scan := func(p string, kinds []string, limit int) []*Entry {
		var pre, sub []*Entry
		for i := range s.b.entries {
			e := s.b.entries[i]
			if !KindIn(e.sum.Ref.Kind, kinds) {
				continue
			}
			switch {
			case strings.HasPrefix(e.name, p):
				pre = append(pre, e)
			case len(sub) < limit && strings.Contains(e.name, p):
				sub = append(sub, e)
			}
			if len(pre) >= limit {
				break
			}
		}
		out := append(pre, sub...)
		return out[:min(len(out), limit)]
	}
	prefixes := []string{"", "p", "pa", "pay", "api", "ger-d", "-12", "ünï", "nï-", "\xbcn", "zzz", "team-team"}
	for range 200 {
		w := sums[rng.IntN(len(sums))].Ref.Name
		lo := rng.IntN(len(w))
		prefixes = append(prefixes, w[lo:lo+rng.IntN(len(w)-lo)+1])
	}
	for _, p := range prefixes {
		for _, kinds := range [][]string{nil, {catalog.KindGroup}} {
			got := keys(s.Complete(p, kinds, 10))
			if want := keys(scan(p, kinds, 10)); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Complete(%q, %v) = %v, want %v (scan)", p, kinds, got, want)
			}
		}
	}
}

// TestFindNearMatchesScan checks the typo-tolerant findNear, which reads
// the word and name indexes, against measuring the distance from every
// term to every word and name of every entry.
func TestFindNearMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 18))
	words := []string{"payments", "ledger", "checkout", "fraud", "detector", "worker", "search", "billing", "reports", "ünïcode", "go", "events", "invoice"}
	pick := func(n int) []string {
		var out []string
		for range n {
			out = append(out, words[rng.IntN(len(words))])
		}
		return out
	}
	kinds := []string{catalog.KindComponent, catalog.KindAPI, catalog.KindGroup}
	var sums []catalog.Summary
	for i := range 1500 {
		sm := catalog.Summary{
			Ref:         catalog.Ref{Kind: kinds[rng.IntN(len(kinds))], Namespace: "default", Name: strings.Join(pick(1+rng.IntN(2)), "-") + fmt.Sprint("-", i)},
			Title:       strings.Join(pick(rng.IntN(3)), " "),
			Description: strings.Join(pick(rng.IntN(5)), ", "),
			Tags:        pick(rng.IntN(3)),
		}
		if rng.IntN(3) > 0 {
			sm.Owner = "group:default/" + words[rng.IntN(len(words))] + "-team"
		}
		sums = append(sums, sm)
	}
	s := buildSnapshot(1, sums)

	// fuzzy is the best score of a word or name of e within typoLimit
	// edits (and not 0) of t, by reading them all.
	fuzzy := func(e *Entry, t string) int {
		m := len([]rune(t))
		if m < minFuzzyTerm || len(t) > maxFuzzyWord {
			return 0
		}
		limit, best := typoLimit(m), 0
		near := func(w string, field int) {
			if d := osaDistance(t, w, limit); d > 0 && d <= limit {
				best = max(best, fuzzyWeight[field]-2*(d-1))
			}
		}
		try := func(w string, field int) {
			if len(w) <= maxFuzzyWord && len([]rune(w)) >= minFuzzyWord && !isNumber(w) {
				near(w, field)
			}
		}
		near(e.name, fieldName) // whole names, through the name index: any name
		split := func(s string, field int) {
			for _, w := range strings.FieldsFunc(s, notWordRune) {
				try(w, field)
			}
		}
		split(e.name, fieldName)
		split(e.title, fieldTitle)
		for _, tag := range e.tags {
			try(tag, fieldTag)
			split(tag, fieldTag)
		}
		if e.owner != "" {
			try(e.owner, fieldOwner)
			split(e.owner, fieldOwner)
		}
		split(e.desc, fieldDesc)
		return best
	}
	scan := func(terms []string, k int) ([]hit, int) {
		var hits []hit
		for i := range s.entries {
			total := 0
			for _, t := range terms {
				sc := max(s.entries[i].score(t), fuzzy(s.entries[i], t))
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
	typo := func(w string) string {
		r := []rune(w)
		i := rng.IntN(len(r))
		switch rng.IntN(4) {
		case 0:
			return string(append(r[:i:i], r[i+1:]...))
		case 1:
			return string(r[:i]) + "x" + string(r[i:])
		case 2:
			r[i] = 'q'
		default:
			if i+1 < len(r) {
				r[i], r[i+1] = r[i+1], r[i]
			}
		}
		return string(r)
	}
	queries := [][]string{{"frued"}, {"ledgr"}, {"paymnts", "api"}, {"ab"}, {"zzzzzz"}, {"ünïcod"}, {"ledger-1"}, {"fraud-detectr-3"}}
	for range 300 {
		q := []string{typo(words[rng.IntN(len(words))])}
		if rng.IntN(3) == 0 {
			w := words[rng.IntN(len(words))]
			q = append(q, w[:min(len(w), 2+rng.IntN(3))])
		}
		queries = append(queries, q)
	}
	for _, q := range queries {
		if _, n := s.find(q, 10); n > 0 {
			continue // findNear runs only when nothing matches as typed
		}
		got, gotN, _ := s.findNear(q, 10)
		want, wantN := scan(q, 10)
		if fmt.Sprint(got) != fmt.Sprint(want) || gotN != wantN {
			t.Errorf("findNear(%q) = %v, %d; want %v, %d (scan)", q, got, gotN, want, wantN)
		}
	}
}

// BenchmarkSearch measures searches of the snapshot of 100,000 generated
// summaries: a common word, two words, a term too short for trigrams
// (every entry read), and a typo (the typo index).
func BenchmarkSearch(b *testing.B) {
	s := Snapshot{b: buildSnapshot(1, genSummaries(rand.New(rand.NewPCG(1, 2)), 100000))}
	for _, bc := range []struct {
		name  string
		terms []string
		near  bool
	}{
		{"word", []string{"ledger"}, false},
		{"two-words", []string{"ledger", "fraud"}, false},
		{"short", []string{"le"}, false},
		{"typo", []string{"ledgr"}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if bc.near {
					s.SearchNear(bc.terms, 10)
				} else {
					s.Search(bc.terms, 10)
				}
			}
		})
	}
}
