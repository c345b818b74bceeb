package view

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// Snapshot is the catalog as one read of a View found it: an immutable
// build of the indexes, with how current it is. The zero Snapshot holds
// nothing and is not Cached. A Snapshot is a small value, safe to copy and
// to share between goroutines; the entries it returns must not be
// modified.
type Snapshot struct {
	v      *View
	b      *build
	readAt time.Time // when it was read
	// cached is set when the store could not confirm the snapshot at
	// readAt: it is served from memory, current as of asOf.
	cached bool
	asOf   time.Time
}

// Cached reports whether the snapshot was served from memory because the
// store did not answer: it may be older than what the catalog holds now.
func (s Snapshot) Cached() bool { return s.cached }

// Age is, for a Cached snapshot, how long before it was read it was last
// known current; zero otherwise.
func (s Snapshot) Age() time.Duration {
	if !s.cached {
		return 0
	}
	return s.readAt.Sub(s.asOf)
}

// Generation is the catalog generation (catalog.Store.Generation) the
// snapshot was built at: caches of what depends on the catalog key on it.
func (s Snapshot) Generation() int64 {
	if s.b == nil {
		return 0
	}
	return s.b.gen
}

// build is one immutable build of the indexes. The search indexes are
// built on first use (see nameIdx, textIdx, wordIdx): a build patched from
// the last one (patch.go) answers lookups by ref, name, title and owner as
// soon as it exists, and the second or so the search indexes of 100,000
// entities take is not on the way to those answers. Builds with the same
// names share one name index.
type build struct {
	gen     int64
	entries []*Entry         // shared with other builds: never modified
	byRef   map[string]int   // canonical ref -> entries index
	byName  map[string][]int // lower-case name -> entries indexes
	byTitle map[string][]int // lower-case title, spaces collapsed -> entries indexes
	owned   map[string][]int // canonical owner ref -> owned entries, sorted
	names   []string         // distinct lower-case names, sorted

	near  *lazy[*nameIndex] // over names
	text  *lazy[textIndex]  // over the searched fields of entries
	words *lazy[wordIndex]  // the words of the searched fields, for typos
	// locations are the Location entities, which no lookup answers with
	// (they are plumbing) but Summaries lists; locAt is the position of
	// each among all summaries, ascending.
	locations []*Entry
	locAt     []int
}

// Entry is one entity of a snapshot: its summary, with the fields that
// lookups compare lower-cased once.
type Entry struct {
	sum   catalog.Summary
	ref   string // canonical ref
	name  string
	title string
	desc  string
	tags  []string
	owner string // lower-case owner name (without kind and namespace)
	rank  int    // KindRank of the kind, once: less runs for every hit of a search
}

// Summary is the entity's summary as the store gave it, except that Owner
// is the canonical ref of its owner (kind Group and the entity's namespace
// by default) whenever it parses. It must not be modified.
func (e *Entry) Summary() *catalog.Summary { return &e.sum }

// Ref is the entity's ref.
func (e *Entry) Ref() catalog.Ref { return e.sum.Ref }

// Key is the entity's canonical ref, kind:namespace/name.
func (e *Entry) Key() string { return e.ref }

// Name is the entity's name in lower case.
func (e *Entry) Name() string { return e.name }

// Title is the entity's title in lower case, "" when it has none.
func (e *Entry) Title() string { return e.title }

// List is entries of one snapshot in a fixed order; it refers to the
// snapshot rather than copying them.
type List struct {
	b   *build
	ids []int
}

// Len is the number of entries in l.
func (l List) Len() int { return len(l.ids) }

// At returns the i'th entry of l, 0 <= i < l.Len().
func (l List) At(i int) *Entry { return l.b.entries[l.ids[i]] }

func newEntry(sm catalog.Summary) Entry {
	e := Entry{
		sum:   sm,
		ref:   sm.Ref.String(),
		name:  strings.ToLower(sm.Ref.Name),
		title: strings.ToLower(sm.Title),
		desc:  strings.ToLower(sm.Description),
		rank:  KindRank(sm.Ref.Kind),
	}
	for _, t := range sm.Tags {
		e.tags = append(e.tags, strings.ToLower(t))
	}
	if sm.Owner != "" {
		if o, err := catalog.ParseRef(sm.Owner, catalog.KindGroup, sm.Ref.Namespace); err == nil {
			e.owner = strings.ToLower(o.Name)
			e.sum.Owner = o.String()
		}
	}
	return e
}

// buildSnapshot builds the snapshot of every summary of the catalog at
// generation gen (sums sorted by canonical ref), search indexes included.
func buildSnapshot(gen int64, sums []catalog.Summary) *build {
	s := newBuild(gen, sums)
	s.index()
	return s
}

// newBuild is buildSnapshot with the search indexes built on first use.
func newBuild(gen int64, sums []catalog.Summary) *build {
	// One allocation for every entry; patches keep pointing at those
	// they reuse.
	es := make([]Entry, len(sums))
	all := make([]*Entry, len(sums))
	for i, sm := range sums {
		es[i] = newEntry(sm)
		all[i] = &es[i]
	}
	return assemble(gen, all)
}

// assemble returns the build of all (every entity's entry, in canonical
// ref order) at generation gen, without its search indexes. It takes
// over all: the entries other than Locations are moved to its front and
// kept as the build's.
func assemble(gen int64, all []*Entry) *build {
	s := &build{
		gen:     gen,
		entries: all[:0],
		byRef:   make(map[string]int, len(all)),
		byName:  make(map[string][]int, len(all)),
		byTitle: map[string][]int{},
		owned:   map[string][]int{},
	}
	for at := range all {
		e := all[at]
		if strings.EqualFold(e.sum.Ref.Kind, catalog.KindLocation) {
			// Locations are plumbing, never the answer to a question.
			s.locations = append(s.locations, e)
			s.locAt = append(s.locAt, at)
			continue
		}
		// In place: i <= at, so no entry is overwritten before it is read.
		i := len(s.entries)
		s.entries = append(s.entries, e)
		s.byRef[e.ref] = i
		if _, seen := s.byName[e.name]; !seen {
			s.names = append(s.names, e.name)
		}
		s.byName[e.name] = append(s.byName[e.name], i)
		if t := titleKey(e.title); t != "" {
			s.byTitle[t] = append(s.byTitle[t], i)
		}
		if e.sum.Owner != "" {
			s.owned[e.sum.Owner] = append(s.owned[e.sum.Owner], i)
		}
	}
	sort.Strings(s.names)
	for _, ids := range s.owned {
		sort.Slice(ids, func(a, b int) bool { return s.less(ids[a], ids[b]) })
	}
	names := s.names // not s: builds patched from s share the name index, not s
	s.near = newLazy(func() *nameIndex { return newNameIndex(names) })
	s.lazySearch()
	return s
}

// lazySearch sets the text and word indexes of s to be built on first
// use from its entries.
func (s *build) lazySearch() {
	s.text = newLazy(func() textIndex { return buildTextIndex(s.entries) })
	s.words = newLazy(func() wordIndex { return buildWordIndex(s.entries) })
}

// index builds every search index of s that is not built yet.
func (s *build) index() {
	s.nameIdx()
	s.textIdx()
	s.wordIdx()
}

// nameIdx returns the name index of s, building it on first use; it is
// safe for concurrent use.
func (s *build) nameIdx() *nameIndex { return s.near.get() }

// textIdx returns the trigram index of s, building it on first use; it is
// safe for concurrent use.
func (s *build) textIdx() textIndex { return s.text.get() }

// wordIdx returns the typo index of s, building it on first use; it is
// safe for concurrent use.
func (s *build) wordIdx() wordIndex { return s.words.get() }

// lazy is a value made on first use, once; it is safe for concurrent use.
type lazy[T any] struct {
	once sync.Once
	make func() T // nil once made, so that what it holds can go
	v    T
	made atomic.Bool
}

func newLazy[T any](make func() T) *lazy[T] { return &lazy[T]{make: make} }

func (l *lazy[T]) get() T {
	l.once.Do(func() {
		l.v, l.make = l.make(), nil
		l.made.Store(true)
	})
	return l.v
}

// ready returns the value when it is made, without making it.
func (l *lazy[T]) ready() (T, bool) {
	if !l.made.Load() {
		var zero T
		return zero, false
	}
	return l.v, true
}

// kindRank orders kinds in listings: the things people ask about first.
var kindRank = map[string]int{
	"component": 0, "api": 1, "resource": 2, "system": 3, "domain": 4,
	"template": 5, "group": 6, "user": 7,
}

// KindRank orders kinds in listings, lower first: components, APIs,
// resources, systems, domains, templates, groups, users, then any other
// kind. Kinds compare case-insensitively.
func KindRank(k string) int {
	if r, ok := kindRank[strings.ToLower(k)]; ok {
		return r
	}
	return len(kindRank)
}

// less orders entries by kind rank, then name, then canonical ref.
func (s *build) less(a, b int) bool {
	ea, eb := s.entries[a], s.entries[b]
	if ea.rank != eb.rank {
		return ea.rank < eb.rank
	}
	if ea.name != eb.name {
		return ea.name < eb.name
	}
	return ea.ref < eb.ref
}

// Lookup returns the entry of ref, or nil when the snapshot has none.
func (s Snapshot) Lookup(ref catalog.Ref) *Entry {
	if s.b == nil {
		return nil
	}
	if i, ok := s.b.byRef[ref.String()]; ok {
		return s.b.entries[i]
	}
	return nil
}

// Has reports whether the snapshot holds ref.
func (s Snapshot) Has(ref catalog.Ref) bool { return s.Lookup(ref) != nil }

// Named returns the entries named name (lower case) of every kind and
// namespace, in catalog order.
func (s Snapshot) Named(name string) List {
	if s.b == nil {
		return List{}
	}
	return List{s.b, s.b.byName[name]}
}

// Titled returns the entries whose title is t, ignoring case and runs of
// spaces, in catalog order.
func (s Snapshot) Titled(t string) List {
	if s.b == nil {
		return List{}
	}
	return List{s.b, s.b.byTitle[titleKey(t)]}
}

// Owned returns the entries whose owner is owner (a canonical ref), by
// kind rank, then name.
func (s Snapshot) Owned(owner string) List {
	if s.b == nil {
		return List{}
	}
	return List{s.b, s.b.owned[owner]}
}

// Nearest returns up to k names of the snapshot close to name (lower
// case): within a few edits, or holding it, or held by it; see Nearest.
func (s Snapshot) Nearest(name string, k int) []string {
	if s.b == nil {
		return nil
	}
	return s.b.nameIdx().nearest(name, k)
}

// Summaries calls yield with every entity's summary, Locations included,
// in the order the store listed them (by canonical ref), until yield
// returns false. Owners are canonical, as in Entry.Summary.
func (s Snapshot) Summaries(yield func(*Entry) bool) {
	if s.b == nil {
		return
	}
	s.b.each(yield)
}

// each calls yield with every entry of s, Locations included, in
// canonical ref order, until yield returns false.
func (s *build) each(yield func(*Entry) bool) {
	i, j := 0, 0
	for at := range len(s.entries) + len(s.locations) {
		var e *Entry
		if j < len(s.locations) && s.locAt[j] == at {
			e = s.locations[j]
			j++
		} else {
			e = s.entries[i]
			i++
		}
		if !yield(e) {
			return
		}
	}
}

// titleKey is how a title is looked up: lower case, runs of spaces as one.
func titleKey(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
