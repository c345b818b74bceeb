package view

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
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
	for qi, q := range queries {
		for _, k := range []int{5, 15} {
			want := nearest(q, names, k)
			if got := x.nearest(q, k); !slices.Equal(got, want) {
				t.Errorf("nameIndex.nearest(%q, %d) = %q, want %q (scan)", q, k, got, want)
			}
		}
		if qi%3 != 0 {
			continue // a third of the queries suffices for within, and keeps the test quick
		}
		// within finds every name within the limit, and no other.
		limit := typoLimit(len([]rune(q)))
		var want, got []string
		for _, n := range names {
			if q != "" && osaDistance(q, n, limit) <= limit {
				want = append(want, n)
			}
		}
		x.within(q, limit, func(id int32, d int) {
			if d != osaDistance(q, names[id], limit) {
				t.Errorf("nameIndex.within(%q) gave %q at distance %d, want %d", q, names[id], d, osaDistance(q, names[id], limit))
			}
			got = append(got, names[id])
		})
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("nameIndex.within(%q, %d) = %q, want %q (scan)", q, limit, got, want)
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

// osaPlain is the textbook OSA distance, without osa's shortcuts.
func osaPlain(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// TestOSAStripping compares osaDistance, which strips common prefixes and
// suffixes and stops at the limit, with the plain distance on every pair
// of strings of up to five letters over a three-letter alphabet.
func TestOSAStripping(t *testing.T) {
	strs := []string{""}
	for n := 0; n < len(strs) && len(strs[n]) < 5; n++ {
		for _, c := range "abc" {
			strs = append(strs, strs[n]+string(c))
		}
	}
	for _, a := range strs {
		for _, b := range strs {
			want := osaPlain(a, b)
			for _, limit := range []int{1, 2, 3, 10} {
				w := min(want, limit+1)
				if got := osaDistance(a, b, limit); got != w {
					t.Fatalf("osaDistance(%q, %q, %d) = %d, want %d", a, b, limit, got, w)
				}
			}
		}
	}
}

// TestNearestLongQuery checks that a miss costs time linear in the length
// of what was typed: the old search spent minutes on one 100,000-letter
// word, looking up every substring of at least half its length as a name.
func TestNearestLongQuery(t *testing.T) {
	names := make([]string, 0, 20000)
	for i := range 20000 {
		names = append(names, fmt.Sprintf("service-%05d", i))
	}
	x := newNameIndex(names)
	for _, q := range []string{
		strings.Repeat("q", 100000),
		strings.Repeat("service-", 12500),
		strings.Repeat("é日", 50000),
		strings.Repeat("\xbc", 100000), // not UTF-8: the scan of every name
		strings.Repeat("service-00001", 5) + "x",
		strings.Repeat("é", 10) + "service-00001",
		"the-service-00001-ok", // a name inside: service-00001
	} {
		done := make(chan []string, 1)
		go func() { done <- x.nearest(q, 15) }()
		select {
		case got := <-done:
			// No name is near a query more than twice as long as the
			// longest name; the scan, which reads q for every name, checks
			// the shorter ones.
			var want []string
			if len(q) < 1000 {
				want = nearest(q, names, 15)
			}
			if !slices.Equal(got, want) {
				t.Errorf("nameIndex.nearest(%.20q…) = %q, want %q", q, got, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("nameIndex.nearest(%.20q…, %d bytes) took more than 2s", q, len(q))
		}
	}
}

func TestSamePadded(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"svc-00009", "svc-000009", true}, {"svc-0000009", "svc-000009", true}, {"svc-000", "svc-0", true},
		{"007-x-0100", "7-x-100", true}, {"a00b", "a0b", true}, {"é0001", "é1", true},
		{"svc-9", "svc-9", false}, {"svc-90", "svc-9", false}, {"svc-000090", "svc-00009", false},
		{"x10", "x010", true}, {"x10", "x1", false}, {"a00b", "ab", false}, {"", "0", false}, {"0", "", false},
	} {
		if got := samePadded(tt.a, tt.b); got != tt.want {
			t.Errorf("samePadded(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
