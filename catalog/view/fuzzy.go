package view

import (
	"sort"
	"strings"
)

// osaDistance returns the optimal-string-alignment distance between a and b
// (Damerau–Levenshtein where a transposition of neighbours costs 1 and no
// substring is edited twice), or limit+1 when it exceeds limit. Bounding by
// limit keeps a miss against a large catalog cheap: most names are rejected
// by length or letter counts alone, the rest after a few rows.
func osaDistance(a, b string, limit int) int {
	return osaDistanceASCII(a, b, limit, isASCII(a) && isASCII(b))
}

// osaDistanceASCII is osaDistance for callers that know whether both
// strings are ASCII.
func osaDistanceASCII(a, b string, limit int, ascii bool) int {
	if ascii {
		if d := len(a) - len(b); d > limit || -d > limit || histogramBound(a, b) > limit {
			return limit + 1
		}
		return osa([]byte(a), []byte(b), limit)
	}
	return osa([]rune(a), []rune(b), limit)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// histogramBound is a lower bound of the edit distance of two ASCII
// strings: a substitution changes the letter counts by two, an insertion
// or deletion by one, a transposition not at all.
func histogramBound(a, b string) int {
	var h [128]int16
	for i := 0; i < len(a); i++ {
		h[a[i]]++
	}
	for i := 0; i < len(b); i++ {
		h[b[i]]--
	}
	diff := 0
	for _, s := range [2]string{a, b} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if v := h[c]; v != 0 {
				diff += int(max(v, -v))
				h[c] = 0
			}
		}
	}
	return (diff + 1) / 2
}

// osa computes the bounded OSA distance of two sequences.
func osa[E comparable](ra, rb []E, limit int) int {
	// A common prefix or suffix costs nothing and changes no alignment of
	// the rest (TestOSAStripping checks this exhaustively on short
	// strings), and most suggested names share one with what was typed.
	for len(ra) > 0 && len(rb) > 0 && ra[0] == rb[0] {
		ra, rb = ra[1:], rb[1:]
	}
	for len(ra) > 0 && len(rb) > 0 && ra[len(ra)-1] == rb[len(rb)-1] {
		ra, rb = ra[:len(ra)-1], rb[:len(rb)-1]
	}
	la, lb := len(ra), len(rb)
	if d := la - lb; d > limit || -d > limit {
		return limit + 1
	}
	if la == 0 || lb == 0 {
		return max(la, lb)
	}
	// Three rows: two back (for transpositions), previous, current; on the
	// stack for names of ordinary length.
	var buf [3 * 72]int
	var rows []int
	if 3*(lb+1) <= len(buf) {
		rows = buf[:3*(lb+1)]
	} else {
		rows = make([]int, 3*(lb+1))
	}
	prev2, prev, cur := rows[:lb+1], rows[lb+1:2*(lb+1)], rows[2*(lb+1):]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[lb] > limit {
		return limit + 1
	}
	return prev[lb]
}

// typoLimit is how many edits a name of n runes may be away from what was
// typed and still be suggested: one for short names, where two edits turn
// almost anything into anything, up to three for long ones.
func typoLimit(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 12:
		return 2
	default:
		return 3
	}
}

// candidate is one suggested name and how well it matches; lower is better.
type candidate struct {
	name  string
	score int
}

// nearest returns up to max names from names (lower case, distinct) that
// are close to q (lower case): within typoLimit edits, or having q as a
// prefix or substring (a shortened name, "payments" for "payments-api").
// Edit-distance matches rank first, then prefixes, then substrings; ties go
// to the shorter, then alphabetically first name. It reads every name;
// nameIndex.nearest gives the same answer from a few.
func nearest(q string, names []string, max int) []string {
	if q == "" || max <= 0 {
		return nil
	}
	limit := typoLimit(len([]rune(q)))
	var cands []candidate
	for _, n := range names {
		if c, ok := scoreName(q, n, limit); ok {
			cands = append(cands, c)
		}
	}
	return rankCandidates(cands, max)
}

// scoreName says whether name n is worth suggesting for q, and how well it
// matches; limit is typoLimit of q.
func scoreName(q, n string, limit int) (candidate, bool) {
	return scoreNameASCII(q, n, limit, isASCII(q) && isASCII(n))
}

// scoreNameASCII is scoreName for callers that know whether q and n are
// both ASCII.
func scoreNameASCII(q, n string, limit int, ascii bool) (candidate, bool) {
	if n == q {
		return candidate{}, false
	}
	if d := osaDistanceASCII(q, n, limit, ascii); d <= limit {
		// Among equally near names, one that extends what was typed
		// (a missing last digit) beats a changed one.
		sc := d * 4
		switch {
		case samePadded(q, n):
			// The same number with other zero padding (svc-00009 for
			// svc-000009) is the name meant, before any that merely
			// extends what was typed (svc-000090).
			sc = -4
		case strings.HasPrefix(n, q):
			sc -= 2
		}
		return candidate{n, sc}, true
	}
	if len(q) < 3 {
		return candidate{}, false // a one- or two-letter prefix matches too much to help
	}
	switch {
	case strings.HasPrefix(n, q):
		return candidate{n, 40}, true
	case strings.Contains(n, q):
		return candidate{n, 80}, true
	case len(n) >= 3 && strings.Contains(q, n) && len(n)*2 >= len(q):
		// What was typed has extra words around a real name.
		return candidate{n, 120}, true
	}
	return candidate{}, false
}

// samePadded reports whether a and b differ only in the leading zeros of
// their numbers ("svc-0009" and "svc-009"). It runs for every near name
// of a miss, so it compares in place rather than build unpadded copies.
func samePadded(a, b string) bool {
	if a == b {
		return false
	}
	i, j := 0, 0
	for {
		i, j = skipPad(a, i), skipPad(b, j)
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i, j = i+1, j+1
	}
}

// skipPad returns i moved past the leading zeros of a number starting at
// i in s (keeping the last digit: "000" is 0), or i unchanged.
func skipPad(s string, i int) int {
	if i < len(s) && s[i] == '0' && (i == 0 || !isDigit(s[i-1])) {
		for i+1 < len(s) && s[i] == '0' && isDigit(s[i+1]) {
			i++
		}
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// rankCandidates returns the names of the best max candidates, best first.
func rankCandidates(cands []candidate, max int) []string {
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.score != b.score {
			return a.score < b.score
		}
		if len(a.name) != len(b.name) {
			return len(a.name) < len(b.name)
		}
		return a.name < b.name
	})
	if len(cands) > max {
		cands = cands[:max]
	}
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.name
	}
	return out
}

// Nearest returns up to max of names that are close to q (a typo, a
// prefix, a substring), best first, compared case-insensitively: the
// did-you-mean suggestions of the chat commands, for lists that are not
// the catalog's names (templates, report targets).
func Nearest(q string, names []string, max int) []string {
	lower := make([]string, 0, len(names))
	orig := make(map[string]string, len(names))
	for _, n := range names {
		l := strings.ToLower(n)
		if _, ok := orig[l]; !ok {
			orig[l] = n
			lower = append(lower, l)
		}
	}
	out := nearest(strings.ToLower(strings.TrimSpace(q)), lower, max)
	for i, n := range out {
		out[i] = orig[n]
	}
	return out
}
