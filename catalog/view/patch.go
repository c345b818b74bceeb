package view

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// maxPatchRefs bounds the changed entities the view reads by ref
// (catalog.ChangeLog) to patch its snapshot; past it, it reads every
// summary again. A sync of one file changes a handful of entities (the
// file's own, and the owners and parts whose inverse relations moved).
// The bound is a judgement, not a measurement: a patch costs the changed
// entities' summaries read by ref, their entries and index postings, and
// at worst (entities added or removed) maps and indexes rebuilt from the
// reused entries, which is a tenth of a full build at 100,000 entities
// (BenchmarkPatch); a few thousand changes are a bulk sync, which the
// full read handles as before.
const maxPatchRefs = 2000

// patched says how a build was derived from the previous one by a
// change log: from its generation, with the entities of changed
// (canonical refs) read again. The entity cache carries its other entries
// forward (entityCache.carry).
type patched struct {
	from    int64
	changed []string
}

// patchFrom returns b brought up to the store's change log, and what it
// changed, when the log holds every change after b.gen, at generation gen
// (the store's, just read) or later, and they are few. It returns a nil
// build when the view must read every summary instead.
func (v *View) patchFrom(ctx context.Context, b *build, gen int64) (*build, *patched, error) {
	start := time.Now()
	ch, err := v.changes.Changes(ctx, b.gen)
	// A log behind the generation just read (or a generation that went
	// back) cannot bring b up to date.
	if err == nil && (!ch.Complete || ch.Generation < gen || ch.Generation <= b.gen || len(ch.Refs) > maxPatchRefs) {
		return nil, nil, nil
	}
	var sums []catalog.Summary
	if err == nil && len(ch.Refs) > 0 {
		sums, err = v.changes.SummariesOf(ctx, ch.Refs)
	}
	if errors.Is(err, catalog.ErrUnavailable) {
		return nil, nil, fmt.Errorf("view changes since %d: %w", b.gen, err)
	}
	if err != nil {
		// Reading everything still answers right: the log is a shortcut.
		v.logger.WarnContext(ctx, "change log unreadable, rebuilding", "generation", b.gen, "err", err)
		return nil, nil, nil
	}
	keys := make([]string, 0, len(ch.Refs))
	for _, r := range ch.Refs {
		keys = append(keys, r.String())
	}
	asked := keys // sorted, as Changes returns them
	for _, sm := range sums {
		// Only refs asked for are expected; any other summary replaces
		// the entry, and so goes from the cache, as well.
		k := sm.Ref.String()
		if _, ok := slices.BinarySearch(asked, k); !ok {
			keys = append(keys, k)
		}
	}
	nb := patch(b, ch.Generation, keys, sums)
	v.logger.DebugContext(ctx, "snapshot patched", "generation", nb.gen, "from", b.gen, "entities", len(keys), "took_s", time.Since(start).Seconds())
	return nb, &patched{from: b.gen, changed: keys}, nil
}

// patch returns the build at generation gen of b's catalog where the
// entities of changed (canonical refs) are those of sums (their current
// summaries; a ref of changed without one was removed). The entries of the
// other entities are b's as they are. Its search indexes are built on
// first use.
func patch(b *build, gen int64, changed []string, sums []catalog.Summary) *build {
	fresh := make([]Entry, len(sums))
	drop := make(map[string]bool, len(changed)+len(sums))
	for _, k := range changed {
		drop[k] = true
	}
	for i, sm := range sums {
		fresh[i] = newEntry(sm)
		drop[fresh[i].ref] = true
	}
	// SummariesOf sorts by canonical ref, refs unique; a store that did
	// not must still not break the snapshot's order.
	byRef := func(a, b Entry) int { return strings.Compare(a.ref, b.ref) }
	if !slices.IsSortedFunc(fresh, byRef) {
		slices.SortStableFunc(fresh, byRef)
	}
	fresh = slices.CompactFunc(fresh, func(a, b Entry) bool { return a.ref == b.ref })
	if len(drop) == len(fresh) {
		// Every changed entity has a summary still: perhaps all were
		// there before too.
		if nb, ok := patchInPlace(b, gen, fresh); ok {
			return nb
		}
	}

	all := make([]*Entry, 0, len(b.entries)+len(b.locations)+len(fresh))
	j := 0
	for e := range b.each {
		if drop[e.ref] {
			continue
		}
		for j < len(fresh) && fresh[j].ref < e.ref {
			all = append(all, &fresh[j])
			j++
		}
		all = append(all, e)
	}
	for ; j < len(fresh); j++ {
		all = append(all, &fresh[j])
	}
	return assemble(gen, all)
}

// patchInPlace returns the build at generation gen of b's catalog where
// fresh replace the entries of the same refs, when each has one in b
// (ok is false otherwise). Every entry keeps its place, so the maps by
// ref and name and the name index are b's; the maps by title and owner
// are b's unless a title or owner changed, and then copied with the few
// lists that changed. Its text and word indexes, when b's are built, are
// b's patched on first use, else built on first use.
func patchInPlace(b *build, gen int64, fresh []Entry) (nb *build, ok bool) {
	for i := range fresh {
		if _, ok := b.byRef[fresh[i].ref]; !ok {
			return nil, false // new, or a Location
		}
	}
	nb = &build{
		gen:       gen,
		entries:   slices.Clone(b.entries),
		byRef:     b.byRef,
		byName:    b.byName,
		byTitle:   b.byTitle,
		owned:     b.owned,
		names:     b.names,
		near:      b.near,
		locations: b.locations,
		locAt:     b.locAt,
	}
	nb.lazySearch()
	changes := make([]change, len(fresh))
	var titles, owners bool
	for k := range fresh {
		e := &fresh[k]
		i := b.byRef[e.ref]
		old := b.entries[i]
		nb.entries[i] = e
		changes[k] = change{i: i, old: old, new: e}
		if ot, nt := titleKey(old.title), titleKey(e.title); ot != nt {
			if !titles {
				nb.byTitle, titles = maps.Clone(b.byTitle), true
			}
			without(nb.byTitle, ot, i)
			with(nb.byTitle, nt, i, func(a, b int) bool { return a < b })
		}
		if oo, no := old.sum.Owner, e.sum.Owner; oo != no {
			if !owners {
				nb.owned, owners = maps.Clone(b.owned), true
			}
			without(nb.owned, oo, i)
			with(nb.owned, no, i, nb.less)
		}
	}
	// The closures hold b's indexes and the changes, not b: a chain of
	// patches holds no build but the newest.
	if x, ok := b.text.ready(); ok {
		nb.text = newLazy(func() textIndex { return x.patched(changes) })
	}
	if x, ok := b.words.ready(); ok {
		entries := nb.entries
		nb.words = newLazy(func() wordIndex {
			if nx, ok := x.patched(changes); ok {
				return nx
			}
			return buildWordIndex(entries)
		})
	}
	return nb, true
}

// without replaces m[k] with a copy lacking i (deleting k when none is
// left): the list may be shared with another build.
func without(m map[string][]int, k string, i int) {
	l := m[k]
	at := slices.Index(l, i)
	if k == "" || at < 0 {
		return
	}
	if len(l) == 1 {
		delete(m, k)
		return
	}
	m[k] = slices.Concat(l[:at], l[at+1:])
}

// with replaces m[k], ordered by less, with a copy holding i in its
// place; "" is no key.
func with(m map[string][]int, k string, i int, less func(a, b int) bool) {
	if k == "" {
		return
	}
	l := m[k]
	at := sort.Search(len(l), func(j int) bool { return less(i, l[j]) })
	m[k] = slices.Concat(l[:at], []int{i}, l[at:])
}
