package view

import (
	"sort"
	"strings"
)

// Complete returns, for type-ahead, up to limit entries of one of kinds
// (any kind when kinds is empty) whose name starts with prefix (lower
// case), then whose name holds it, each group in catalog order.
func (s Snapshot) Complete(prefix string, kinds []string, limit int) []*Entry {
	if s.b == nil {
		return nil
	}
	b := s.b
	// Only entries whose name contains prefix are offered: read those the
	// name index may hold, in entries order, when it can tell.
	order := func(yield func(int) bool) {
		for i := range b.entries {
			if !yield(i) {
				return
			}
		}
	}
	if ids, ok := b.nameIdx().containing(prefix); ok {
		var idx []int
		for _, id := range ids {
			idx = append(idx, b.byName[b.names[id]]...)
		}
		sort.Ints(idx)
		order = func(yield func(int) bool) {
			for _, i := range idx {
				if !yield(i) {
					return
				}
			}
		}
	}
	var pre, sub []*Entry
	for i := range order {
		e := b.entries[i]
		if !KindIn(e.sum.Ref.Kind, kinds) {
			continue
		}
		switch {
		case strings.HasPrefix(e.name, prefix):
			pre = append(pre, e)
		case len(sub) < limit && strings.Contains(e.name, prefix):
			sub = append(sub, e)
		}
		if len(pre) >= limit {
			break
		}
	}
	out := append(pre, sub...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// KindIn reports whether kind is one of kinds, ignoring case; any kind is
// when kinds is empty.
func KindIn(kind string, kinds []string) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if strings.EqualFold(k, kind) {
			return true
		}
	}
	return false
}
