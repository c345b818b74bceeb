package view

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// maxNearWords bounds the "term → word" corrections SearchNear names.
const maxNearWords = 5

// Search returns the best k entries matching every term (lower case), best
// first, and how many match in all. A term matches a name, title,
// description, tag or owner name as a substring; names weigh most, then
// titles, tags, owner and description.
func (s Snapshot) Search(terms []string, k int) ([]*Entry, int) {
	if s.b == nil {
		return nil, 0
	}
	hits, total := s.b.find(terms, k)
	return s.b.hitEntries(hits), total
}

// SearchNear is Search for when nothing matches as typed: a term of four
// letters or more also matches a word of the searched fields, or a name,
// within a few edits of it, scoring below any match as typed. Every term
// must still match. It also returns "term → word" for the near words the
// best k took, nearest first.
func (s Snapshot) SearchNear(terms []string, k int) ([]*Entry, int, []string) {
	if s.b == nil {
		return nil, 0, nil
	}
	hits, total, took := s.b.findNear(terms, k)
	return s.b.hitEntries(hits), total, took
}

func (s *build) hitEntries(hits []hit) []*Entry {
	if len(hits) == 0 {
		return nil
	}
	out := make([]*Entry, len(hits))
	for i, ht := range hits {
		out[i] = s.entries[ht.i]
	}
	return out
}

// score says how well term matches the entry, 0 for not at all. Names weigh
// most, then titles, tags, owner and description.
func (e *Entry) score(t string) int {
	best := 0
	up := func(v int) {
		if v > best {
			best = v
		}
	}
	switch {
	case e.name == t:
		up(100)
	case strings.HasPrefix(e.name, t):
		up(70)
	case strings.Contains(e.name, t):
		up(50)
	}
	if e.title != "" {
		if e.title == t {
			up(80)
		} else if strings.Contains(e.title, t) {
			up(40)
		}
	}
	for _, tag := range e.tags {
		if tag == t {
			up(45)
		} else if strings.HasPrefix(tag, t) {
			up(25)
		}
	}
	if e.owner != "" {
		if e.owner == t {
			up(35)
		} else if strings.Contains(e.owner, t) {
			up(20)
		}
	}
	if strings.Contains(e.desc, t) {
		up(15)
	}
	return best
}

// hit is one search match: an entries index and its score.
type hit struct{ i, score int }

// find returns the best k entries matching every term, best first, and
// how many match in all.
func (s *build) find(terms []string, k int) ([]hit, int) {
	var hits []hit
	score := func(i int) {
		total := sumAll(len(terms), func(t int) int { return s.entries[i].score(terms[t]) })
		if total > 0 {
			hits = append(hits, hit{i, total})
		}
	}
	if ids, all := s.textIdx().candidates(terms); all {
		for i := range s.entries {
			score(i)
		}
	} else {
		for _, i := range ids {
			score(int(i))
		}
	}
	return s.top(hits, k), len(hits)
}

// sumAll returns the sum of score(t) over the n terms of a query, or 0
// when any of them scores 0: an entry matches only when it matches every
// term.
func sumAll(n int, score func(t int) int) int {
	total := 0
	for t := range n {
		sc := score(t)
		if sc == 0 {
			return 0
		}
		total += sc
	}
	return total
}

// top returns the best k of hits, best first.
func (s *build) top(hits []hit, k int) []hit {
	better := func(a, b hit) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return s.less(a.i, b.i)
	}
	// Only the best k are shown: keep those in order rather than
	// sort every hit of a common word.
	top := make([]hit, 0, k)
	for _, ht := range hits {
		if len(top) == k && !better(ht, top[len(top)-1]) {
			continue
		}
		pos := sort.Search(len(top), func(j int) bool { return better(ht, top[j]) })
		if len(top) < k {
			top = append(top, hit{})
		}
		copy(top[pos+1:], top[pos:len(top)-1])
		top[pos] = ht
	}
	return top
}

// termNear is what a search term matches with a typo or two: by entry,
// the best score of a near word and which word.
type termNear struct {
	score []uint8
	word  []int32 // index in took
	ids   []int32 // entries with a score, in no order
}

// findNear is find for when nothing matches as typed: a term of
// minFuzzyTerm runes or more also matches a word of the searched fields,
// or a name, within typoLimit edits of it, at fuzzyWeight (less for each
// edit beyond the first). Every term must still match. It also returns
// "term → word" for the near words the best k took, nearest first.
func (s *build) findNear(terms []string, k int) ([]hit, int, []string) {
	type nearWord struct {
		term, word string
		d          int
	}
	var took []nearWord
	near := make([]termNear, len(terms))
	names, vocab, text := s.nameIdx(), s.wordIdx(), s.textIdx()
	any := false
	for ti, t := range terms {
		m := utf8.RuneCountInString(t)
		if m < minFuzzyTerm || len(t) > maxFuzzyWord {
			continue
		}
		limit := typoLimit(m)
		tn := &near[ti]
		set := func(i, sc, w int) {
			if tn.score == nil {
				tn.score = make([]uint8, len(s.entries))
				tn.word = make([]int32, len(s.entries))
			}
			if tn.score[i] == 0 {
				tn.ids = append(tn.ids, int32(i))
			}
			if sc > int(tn.score[i]) {
				tn.score[i], tn.word[i] = uint8(sc), int32(w)
			}
		}
		// A word at distance 0 holds t as typed: find scored it already.
		vocab.near.within(t, limit, func(id int32, d int) {
			if d == 0 {
				return
			}
			took = append(took, nearWord{t, vocab.near.names[id], d})
			for _, p := range vocab.postings[id] {
				set(int(p>>fieldBits), fuzzyWeight[p&(1<<fieldBits-1)]-2*(d-1), len(took)-1)
			}
		})
		names.within(t, limit, func(id int32, d int) {
			if d == 0 {
				return
			}
			n := names.names[id]
			took = append(took, nearWord{t, n, d})
			for _, i := range s.byName[n] {
				set(i, fuzzyWeight[fieldName]-2*(d-1), len(took)-1)
			}
		})
		any = any || len(tn.ids) > 0
	}
	if !any {
		return nil, 0, nil
	}
	// Every hit is among the candidates of each term: what holds it as
	// typed, or a word near it. Read the smallest such set.
	var cands [][]int32
	best := -1
	// asTyped[ti] is false when no entry can hold term ti as typed (it
	// has a trigram no entry has): its score need not be computed.
	asTyped := make([]bool, len(terms))
	for ti, t := range terms {
		asTyped[ti] = true
		if len(t) < 3 {
			continue // no trigram to narrow by, and too short to correct
		}
		exact, _ := text.candidates([]string{t})
		asTyped[ti] = len(exact) > 0
		if n := len(exact) + len(near[ti].ids); best < 0 || n < best {
			cands, best = [][]int32{exact, near[ti].ids}, n
		}
	}
	seen := make([]uint64, (len(s.entries)+63)/64)
	var hits []hit
	for _, l := range cands {
		for _, id := range l {
			if seen[id/64]&(1<<(id%64)) != 0 {
				continue
			}
			seen[id/64] |= 1 << (id % 64)
			i := int(id)
			total := sumAll(len(terms), func(ti int) int {
				sc := 0
				if asTyped[ti] {
					sc = s.entries[i].score(terms[ti])
				}
				if tn := &near[ti]; tn.score != nil && int(tn.score[i]) > sc {
					sc = int(tn.score[i])
				}
				return sc
			})
			if total > 0 {
				hits = append(hits, hit{i, total})
			}
		}
	}
	top := s.top(hits, k)
	// Name the near words the shown hits rest on.
	used := map[int32]bool{}
	for _, ht := range top {
		for ti, t := range terms {
			if tn := &near[ti]; tn.score != nil && int(tn.score[ht.i]) > s.entries[ht.i].score(t) {
				used[tn.word[ht.i]] = true
			}
		}
	}
	var words []nearWord
	shown := map[nearWord]bool{}
	for w := range used {
		nw := took[w]
		nw.d = 0 // the same word may be near by name and by field
		if !shown[nw] {
			shown[nw] = true
			words = append(words, took[w])
		}
	}
	sort.Slice(words, func(a, b int) bool {
		if words[a].d != words[b].d {
			return words[a].d < words[b].d
		}
		if words[a].term != words[b].term {
			return words[a].term < words[b].term
		}
		return words[a].word < words[b].word
	})
	var out []string
	for _, w := range words[:min(len(words), maxNearWords)] {
		out = append(out, w.term+" → "+w.word)
	}
	return top, len(hits), out
}
