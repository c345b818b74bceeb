package commands

// textIndex maps each byte trigram of the searched fields (name, title,
// description, tags, owner; lower case) to the entries holding it, so that
// search reads the entries that can match rather than all of them: a term
// matches a field only as a substring of it, so every matching entry
// holds each of the term's trigrams. Bytes, not runes, so that the
// substring relation holds for any input, invalid UTF-8 included.
type textIndex map[uint32][]int32

func buildTextIndex(entries []entry) textIndex {
	x := textIndex{}
	var buf []uint32
	for i := range entries {
		e := &entries[i]
		buf = byteTrigrams(e.name, buf[:0])
		buf = byteTrigrams(e.title, buf)
		buf = byteTrigrams(e.desc, buf)
		buf = byteTrigrams(e.owner, buf)
		for _, t := range e.tags {
			buf = byteTrigrams(t, buf)
		}
		sortUnique(&buf)
		for _, g := range buf {
			x[g] = append(x[g], int32(i))
		}
	}
	return x
}

// byteTrigrams appends the trigrams of s's bytes to dst.
func byteTrigrams(s string, dst []uint32) []uint32 {
	for i := 0; i+3 <= len(s); i++ {
		dst = append(dst, uint32(s[i])<<16|uint32(s[i+1])<<8|uint32(s[i+2]))
	}
	return dst
}

// candidates returns the entries that may match every term, ascending, or
// all == true when no term is long enough to narrow the search (fewer
// than three bytes each). It returns the shortest list of any trigram of
// any term: every match holds them all.
func (x textIndex) candidates(terms []string) (ids []int32, all bool) {
	all = true
	var g []uint32
	for _, t := range terms {
		g = byteTrigrams(t, g[:0])
		for _, gram := range g {
			l := x[gram]
			if all || len(l) < len(ids) {
				ids, all = l, false
			}
		}
	}
	return ids, all
}
