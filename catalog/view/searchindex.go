package view

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textIndex maps each byte trigram of the searched fields (name, title,
// description, tags, owner; lower case) to the entries holding it, so that
// search reads the entries that can match rather than all of them: a term
// matches a field only as a substring of it, so every matching entry
// holds each of the term's trigrams. Bytes, not runes, so that the
// substring relation holds for any input, invalid UTF-8 included.
type textIndex map[uint32][]int32

func buildTextIndex(entries []*Entry) textIndex {
	x := textIndex{}
	var buf []uint32
	for i := range entries {
		buf = entryTrigrams(entries[i], buf[:0])
		for _, g := range buf {
			x[g] = append(x[g], int32(i))
		}
	}
	return x
}

// entryTrigrams appends the distinct trigrams of e's searched fields to
// dst[:0], sorted.
func entryTrigrams(e *Entry, dst []uint32) []uint32 {
	dst = byteTrigrams(e.name, dst[:0])
	dst = byteTrigrams(e.title, dst)
	dst = byteTrigrams(e.desc, dst)
	dst = byteTrigrams(e.owner, dst)
	for _, t := range e.tags {
		dst = byteTrigrams(t, dst)
	}
	sortUnique(&dst)
	return dst
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

// Fields of an entry a word is found in, for wordIndex postings.
const (
	fieldName = iota
	fieldTitle
	fieldTag
	fieldOwner
	fieldDesc
	fieldBits = 3
)

// fuzzyWeight is what a word within a few edits of a search term scores,
// by field: below any match of the term as typed in the same field, so a
// guess never outranks what was written.
var fuzzyWeight = [...]int{fieldName: 30, fieldTitle: 24, fieldTag: 20, fieldOwner: 14, fieldDesc: 10}

// Words taken into the typo index: shorter ones are too near everything
// to guess from, longer ones are not words people type, and numbers
// differ by more than a typo when a digit changes.
const (
	minFuzzyWord = 3
	maxFuzzyWord = 40
	// minFuzzyTerm is the shortest search term corrected: a three-letter
	// term is one edit from most three-letter words.
	minFuzzyTerm = 4
)

// wordIndex is the vocabulary of the searched fields for typo-tolerant
// search: each word (split at anything not a letter or digit; whole tags
// and owners too) with the entries and fields holding it. Whole names are
// found through the snapshot's name index instead.
type wordIndex struct {
	near     *nameIndex // over the words
	postings [][]uint32 // by word position: entry<<fieldBits | field
}

func buildWordIndex(entries []*Entry) wordIndex {
	byWord := map[string][]uint32{}
	for i := range entries {
		entryWords(entries[i], func(w string, field int) {
			p := uint32(i)<<fieldBits | uint32(field)
			if l := byWord[w]; len(l) > 0 && l[len(l)-1] == p {
				return
			}
			byWord[w] = append(byWord[w], p)
		})
	}
	words := make([]string, 0, len(byWord))
	for w := range byWord {
		words = append(words, w)
	}
	sort.Strings(words)
	x := wordIndex{near: newNameIndex(words), postings: make([][]uint32, len(words))}
	for i, w := range words {
		x.postings[i] = byWord[w]
	}
	return x
}

// entryWords calls add with each word of e's searched fields the typo
// index takes, and its field, in ascending field order; a word may come
// more than once.
func entryWords(e *Entry, add func(w string, field int)) {
	take := func(w string, field int) {
		if len(w) > maxFuzzyWord || utf8.RuneCountInString(w) < minFuzzyWord || isNumber(w) {
			return
		}
		add(w, field)
	}
	split := func(s string, field int) {
		for _, w := range strings.FieldsFunc(s, notWordRune) {
			take(w, field)
		}
	}
	split(e.name, fieldName)
	split(e.title, fieldTitle)
	for _, t := range e.tags {
		take(t, fieldTag)
		split(t, fieldTag)
	}
	if e.owner != "" {
		take(e.owner, fieldOwner)
		split(e.owner, fieldOwner)
	}
	split(e.desc, fieldDesc)
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
