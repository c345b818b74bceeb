package commands

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestNameIndexMatchesScan checks the trigram-indexed nearest against the
// scan of every name on a catalog-like name set and queries made from its
// names by deletions, insertions, substitutions, transpositions, prefixes,
// extra words and short or non-ASCII input.
func TestNameIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 8))
	words := []string{"payments", "ledger", "checkout", "api", "db", "worker", "search", "auth", "billing", "team", "svc", "a", "x1", "ünï"}
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for i := range 3000 {
		w := []string{words[rng.IntN(len(words))]}
		for range rng.IntN(3) {
			w = append(w, words[rng.IntN(len(words))])
		}
		if rng.IntN(3) == 0 {
			w = append(w, fmt.Sprint(i%500))
		}
		add(strings.Join(w, "-"))
	}
	for _, n := range []string{"a", "ab", "abc", "abcd", "abcde", "abcdef", "zz", "aaaa", "aaaaaaa", "ééé"} {
		add(n)
	}
	slices.Sort(names)
	x := newNameIndex(names)

	const alphabet = "abcdeilmnoprstuwxy-0123456789é"
	letters := []rune(alphabet)
	mutate := func(s string) string {
		r := []rune(s)
		for range 1 + rng.IntN(3) {
			switch i := rng.IntN(max(len(r), 1)); rng.IntN(5) {
			case 0:
				if len(r) > 1 {
					r = slices.Delete(r, i, i+1)
				}
			case 1:
				r = slices.Insert(r, i, letters[rng.IntN(len(letters))])
			case 2:
				if len(r) > 0 {
					r[i] = letters[rng.IntN(len(letters))]
				}
			case 3:
				if i+1 < len(r) {
					r[i], r[i+1] = r[i+1], r[i]
				}
			case 4:
				r = r[:max(1, len(r)-1-rng.IntN(3))]
			}
		}
		return string(r)
	}
	queries := []string{"", "a", "zz", "q", "ab", "the-payments-service", "my-ledger-db-please", "éé", "aaaaa", "paym", "\xbcn\xc3", "\xbc\xc3\xaf"}
	for range 3000 {
		n := names[rng.IntN(len(names))]
		switch rng.IntN(4) {
		case 0:
			queries = append(queries, "the-"+n+"-thing")
		default:
			queries = append(queries, mutate(n))
		}
	}
	for _, q := range queries {
		for _, k := range []int{5, 15} {
			want := nearest(q, names, k)
			if got := x.nearest(q, k); !slices.Equal(got, want) {
				t.Errorf("nameIndex.nearest(%q, %d) = %q, want %q (scan)", q, k, got, want)
			}
		}
	}
}

func BenchmarkNearest(b *testing.B) {
	names := make([]string, 0, 100000)
	for i := range 100000 {
		names = append(names, fmt.Sprintf("service-%05d", i))
	}
	x := newNameIndex(names)
	for _, bc := range []struct{ name, q string }{{"typo", "servce-12345"}, {"prefix", "service-123"}, {"short", "svc"}} {
		b.Run("index/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.nearest(bc.q, 15)
			}
		})
		b.Run("scan/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				nearest(bc.q, names, 15)
			}
		})
	}
}
