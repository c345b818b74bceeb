package view

import (
	"maps"
	"slices"
)

// change is one entry of a patch that keeps every entry's place (see
// patchInPlace): entries index i held old and holds new.
type change struct {
	i        int
	old, new *Entry
}

// patched returns x with the entries of changes reindexed: each removed
// from the lists of the trigrams it lost and added, in order, to those of
// the trigrams it gained. Lists x shares with other builds are copied,
// never changed; the result is what buildTextIndex makes of the patched
// entries.
func (x textIndex) patched(changes []change) textIndex {
	nx := maps.Clone(x)
	var og, ng []uint32
	for _, c := range changes {
		og, ng = entryTrigrams(c.old, og), entryTrigrams(c.new, ng)
		id := int32(c.i)
		// Both are sorted: walk them together.
		a, b := 0, 0
		for a < len(og) || b < len(ng) {
			switch {
			case b == len(ng) || (a < len(og) && og[a] < ng[b]):
				if l := removeID(nx[og[a]], id); len(l) == 0 {
					delete(nx, og[a])
				} else {
					nx[og[a]] = l
				}
				a++
			case a == len(og) || ng[b] < og[a]:
				nx[ng[b]] = insertID(nx[ng[b]], id)
				b++
			default:
				a, b = a+1, b+1
			}
		}
	}
	return nx
}

// patched returns x with the entries of changes reindexed, or ok false
// when their words are not all in x's vocabulary, or some word would
// leave it: the vocabulary is a sorted name index, which a new word would
// reorder, and the index must then be built again. Postings x shares with
// other builds are copied, never changed; the result is what
// buildWordIndex makes of the patched entries.
func (x wordIndex) patched(changes []change) (wordIndex, bool) {
	nx := wordIndex{near: x.near, postings: slices.Clone(x.postings)}
	var shrunk []int32
	for _, c := range changes {
		old, nw := entryPostings(c.old, c.i), entryPostings(c.new, c.i)
		for w, ps := range nw {
			id, ok := x.near.ids[w]
			if !ok {
				return wordIndex{}, false
			}
			for _, p := range ps {
				if !slices.Contains(old[w], p) {
					nx.postings[id] = insertID(nx.postings[id], p)
				}
			}
		}
		for w, ps := range old {
			id, ok := x.near.ids[w]
			if !ok {
				return wordIndex{}, false // not built from these entries
			}
			for _, p := range ps {
				if !slices.Contains(nw[w], p) {
					nx.postings[id] = removeID(nx.postings[id], p)
					shrunk = append(shrunk, id)
				}
			}
		}
	}
	for _, id := range shrunk {
		if len(nx.postings[id]) == 0 {
			return wordIndex{}, false
		}
	}
	return nx, true
}

// entryPostings returns the postings of entries index i, an entry e, by
// word: entry<<fieldBits | field, ascending and distinct.
func entryPostings(e *Entry, i int) map[string][]uint32 {
	out := map[string][]uint32{}
	entryWords(e, func(w string, field int) {
		p := uint32(i)<<fieldBits | uint32(field)
		if l := out[w]; len(l) == 0 || l[len(l)-1] != p {
			out[w] = append(l, p)
		}
	})
	return out
}

// removeID returns a copy of l, sorted, without v.
func removeID[T int32 | uint32](l []T, v T) []T {
	at, ok := slices.BinarySearch(l, v)
	if !ok {
		return l
	}
	return slices.Concat(l[:at], l[at+1:])
}

// insertID returns a copy of l, sorted, with v in its place.
func insertID[T int32 | uint32](l []T, v T) []T {
	at, ok := slices.BinarySearch(l, v)
	if ok {
		return l
	}
	return slices.Concat(l[:at], []T{v}, l[at:])
}
