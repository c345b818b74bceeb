package view

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// maxPatchRefs bounds the changed entities the view reads one by one
// (catalog.ChangeLog) to patch its snapshot; past it, it reads every
// summary again. A sync of one file changes a handful of entities (the
// file's own, and the owners and parts whose inverse relations moved);
// a few thousand read by ref cost about what reading all 100,000 does.
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
	ch, err := v.changes.Changes(ctx, b.gen)
	if errors.Is(err, catalog.ErrUnavailable) {
		return nil, nil, fmt.Errorf("view changes since %d: %w", b.gen, err)
	}
	if err != nil {
		// Reading everything still answers right: the log is a shortcut.
		v.logger.WarnContext(ctx, "change log unreadable, rebuilding", "generation", b.gen, "err", err)
		return nil, nil, nil
	}
	// A log behind the generation just read (or a generation that went
	// back) cannot bring b up to date.
	if !ch.Complete || ch.Generation < gen || ch.Generation <= b.gen || len(ch.Refs) > maxPatchRefs {
		return nil, nil, nil
	}
	var sums []catalog.Summary
	if len(ch.Refs) > 0 {
		if sums, err = v.changes.SummariesOf(ctx, ch.Refs); err != nil {
			return nil, nil, fmt.Errorf("view summaries of %d changed entities: %w", len(ch.Refs), err)
		}
	}
	keys := make([]string, len(ch.Refs))
	for i, r := range ch.Refs {
		keys[i] = r.String()
	}
	return patch(b, ch.Generation, keys, sums), &patched{from: b.gen, changed: keys}, nil
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

	all := make([]Entry, 0, len(b.entries)+len(b.locations)+len(fresh))
	j := 0
	for e := range b.each {
		if drop[e.ref] {
			continue
		}
		for j < len(fresh) && fresh[j].ref < e.ref {
			all = append(all, fresh[j])
			j++
		}
		all = append(all, *e)
	}
	all = append(all, fresh[j:]...)
	return assemble(gen, all)
}
