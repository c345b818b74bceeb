package view

import (
	"sort"
	"unicode/utf8"
)

// nameIndex finds the names near a typed one without measuring the
// distance to every name of the catalog: a trigram index gives a small
// candidate set that provably holds every name nearest would accept, and
// nearest's own scoring then ranks those. At 100,000 names a miss costs
// a few thousand distance checks instead of a hundred thousand.
type nameIndex struct {
	names []string           // distinct lower-case names, sorted
	ids   map[string]int32   // name -> position in names
	grams map[uint64][]int32 // padded trigram -> names holding it, ascending
	// byLen lists names by rune count, for the short queries the trigram
	// bound cannot filter.
	byLen map[int][]int32
	ascii []bool // by name position: the name is ASCII
	// maxBytes and maxRunes are the length of the longest name in bytes
	// and in runes: a query much longer than both is near no name.
	maxBytes, maxRunes int
}

// gramPad pads names at both ends so that every rune, the first and last
// included, is in three trigrams. No name or query holds U+0000 in a way
// that matters: a spurious match only adds a candidate.
const gramPad = 0

func newNameIndex(names []string) *nameIndex {
	x := &nameIndex{
		names: names,
		ids:   make(map[string]int32, len(names)),
		grams: make(map[uint64][]int32, len(names)),
		byLen: map[int][]int32{},
		ascii: make([]bool, len(names)),
	}
	var buf []uint64
	for i, n := range names {
		id := int32(i)
		x.ids[n] = id
		x.ascii[i] = isASCII(n)
		runes := utf8.RuneCountInString(n)
		x.byLen[runes] = append(x.byLen[runes], id)
		x.maxBytes, x.maxRunes = max(x.maxBytes, len(n)), max(x.maxRunes, runes)
		buf = trigrams(n, buf[:0])
		sortUnique(&buf)
		for _, g := range buf {
			x.grams[g] = append(x.grams[g], id)
		}
	}
	return x
}

// trigrams appends the padded trigrams of s (len(runes)+2 of them) to dst.
func trigrams(s string, dst []uint64) []uint64 {
	a, b := uint64(gramPad), uint64(gramPad)
	for _, r := range s {
		c := uint64(r)
		dst = append(dst, a<<42|b<<21|c)
		a, b = b, c
	}
	dst = append(dst, a<<42|b<<21|gramPad)
	return append(dst, b<<42|gramPad<<21|gramPad)
}

func sortUnique[T uint32 | uint64](g *[]T) {
	s := *g
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	*g = out
}

// nearest returns what the package-level nearest returns for x.names and
// max k, reading only candidate names.
func (x *nameIndex) nearest(q string, k int) []string {
	if q == "" || k <= 0 {
		return nil
	}
	m := utf8.RuneCountInString(q)
	limit := typoLimit(m)
	// Every way scoreName accepts a name needs it to be about as long as q
	// or longer (within limit edits, or holding q), or at least half as
	// long (inside q). A query longer than that is near nothing, and
	// answering so without reading it keeps a pasted page from costing
	// time quadratic in its length below.
	if m > x.maxRunes+limit && len(q) > 2*x.maxBytes {
		return nil
	}
	qASCII := isASCII(q)
	seen := make([]uint64, (len(x.names)+63)/64)
	var cands []candidate
	consider := func(id int32) {
		if seen[id/64]&(1<<(id%64)) != 0 {
			return
		}
		seen[id/64] |= 1 << (id % 64)
		if c, ok := scoreNameASCII(q, x.names[id], limit, qASCII && x.ascii[id]); ok {
			cands = append(cands, c)
		}
	}
	// Names within limit edits.
	for _, l := range x.editCandidates(q, m, limit) {
		for _, id := range l {
			consider(id)
		}
	}

	switch {
	case len(q) >= 3 && !utf8.ValidString(q):
		// Rune trigrams do not follow byte substrings of broken UTF-8.
		for id := range x.names {
			consider(int32(id))
		}
	case len(q) >= 3:
		// Names holding q hold each of its inner trigrams.
		if ids, ok := x.containing(q); ok {
			for _, id := range ids {
				consider(id)
			}
		} else {
			// Three bytes but fewer runes: too short for trigrams.
			for id := range x.names {
				consider(int32(id))
			}
		}
		// Names inside q ("the-payments-service" holds "payments") are
		// substrings of at least half its length, and no longer than the
		// longest name: look each up.
		for l := max(3, (len(q)+1)/2); l < min(len(q), x.maxBytes+1); l++ {
			for i := 0; i+l <= len(q); i++ {
				if id, ok := x.ids[q[i:i+l]]; ok {
					consider(id)
				}
			}
		}
	}
	return rankCandidates(cands, k)
}

// editCandidates returns lists of name positions that together hold every
// name within limit edits of q (m runes), and usually few others.
func (x *nameIndex) editCandidates(q string, m, limit int) [][]int32 {
	// An OSA edit changes at most four of the m+2 padded trigrams (a transposition of neighbours; other edits
	// three), so such a name shares at least m+2-4*limit of them with q
	// counted with repeats, and need distinct ones. Any name sharing need
	// of the distinct trigrams appears in at least one of any
	// distinct-need+1 of their lists: the rarest are read. Such a name
	// also has m-limit to m+limit runes: when those names are fewer, or
	// the trigrams cannot filter, they are read instead.
	grams := sortedGrams(q)
	need := m + 2 - 4*limit - (m + 2 - len(grams))
	var byLen [][]int32
	byLenCost := 0
	for n := max(m-limit, 0); n <= m+limit; n++ {
		byLen = append(byLen, x.byLen[n])
		byLenCost += len(x.byLen[n])
	}
	read := byLen
	if need > 0 {
		lists := make([][]int32, len(grams))
		for i, g := range grams {
			lists[i] = x.grams[g]
		}
		sort.Slice(lists, func(i, j int) bool { return len(lists[i]) < len(lists[j]) })
		lists = lists[:len(grams)-need+1]
		cost := 0
		for _, l := range lists {
			cost += len(l)
		}
		if cost < byLenCost {
			read = lists
		}
	}
	return read
}

// sortedGrams returns the distinct padded trigrams of q.
func sortedGrams(q string) []uint64 {
	g := trigrams(q, nil)
	sortUnique(&g)
	return g
}

// containing returns the positions of names that may contain q (a
// superset: the names holding q's rarest trigram), or ok false when q is
// too short or not valid UTF-8 for the trigrams to tell.
func (x *nameIndex) containing(q string) (ids []int32, ok bool) {
	if len(q) < 3 || !utf8.ValidString(q) || utf8.RuneCountInString(q) < 3 {
		return nil, false
	}
	inner := trigrams(q, nil)
	inner = inner[2 : len(inner)-2]
	for i, g := range inner {
		if l := x.grams[g]; i == 0 || len(l) < len(ids) {
			ids = l
		}
	}
	return ids, true
}

// within calls fn with each name within limit edits of q (its position
// and distance), in no particular order.
func (x *nameIndex) within(q string, limit int, fn func(id int32, d int)) {
	m := utf8.RuneCountInString(q)
	if q == "" || m > x.maxRunes+limit {
		return
	}
	qASCII := isASCII(q)
	seen := make([]uint64, (len(x.names)+63)/64)
	for _, l := range x.editCandidates(q, m, limit) {
		for _, id := range l {
			if seen[id/64]&(1<<(id%64)) != 0 {
				continue
			}
			seen[id/64] |= 1 << (id % 64)
			if d := osaDistanceASCII(q, x.names[id], limit, qASCII && x.ascii[id]); d <= limit {
				fn(id, d)
			}
		}
	}
}
