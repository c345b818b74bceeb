package drift

import (
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// ownersIndex answers catalog.CodeOwners.Owners faster for the many paths
// of a big catalog: lines whose pattern is a literal path (most lines of a
// real CODEOWNERS file) are looked up by the path's ancestors and
// segments instead of matched one by one; only wildcard lines are matched,
// newest first, and only those that could still win (the last matching
// line decides, as on GitHub). It gives the same answers as Owners.
type ownersIndex struct {
	rules    []catalog.CodeOwnersRule
	dirOnly  []bool           // by rule: the pattern ends in "/"
	anchored map[string][]int // literal patterns with a slash: path without slashes at the ends -> rules
	segment  map[string][]int // literal patterns without one: segment name -> rules
	wild     []int            // other rules, ascending
	single   []*catalog.CodeOwners
}

func newOwnersIndex(co *catalog.CodeOwners) *ownersIndex {
	x := &ownersIndex{
		rules:    co.Rules,
		dirOnly:  make([]bool, len(co.Rules)),
		anchored: map[string][]int{},
		segment:  map[string][]int{},
	}
	for i, r := range co.Rules {
		p := r.Pattern
		x.dirOnly[i] = strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		literal := p != "" && !strings.ContainsAny(p, "*?")
		switch {
		case !literal:
			x.wild = append(x.wild, i)
			// The rule value carries its compiled pattern; a one-rule
			// file matches with exactly GitHub's semantics as parsed.
			x.single = append(x.single, &catalog.CodeOwners{Rules: []catalog.CodeOwnersRule{r}})
		case strings.Contains(p, "/"):
			k := strings.TrimPrefix(p, "/")
			x.anchored[k] = append(x.anchored[k], i)
		default:
			x.segment[p] = append(x.segment[p], i)
		}
	}
	return x
}

// Owners returns the owners of path as written, or nil when no line
// matches or the matching line assigns none.
func (x *ownersIndex) Owners(path string) []string {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "./"), "/")
	best := -1
	// A literal anchored pattern matches the path itself (unless it names a
	// directory) and everything below it: look up every ancestor.
	for end := len(path); end > 0; end = strings.LastIndexByte(path[:end], '/') {
		whole := end == len(path)
		for _, i := range x.anchored[path[:end]] {
			if i > best && !(whole && x.dirOnly[i]) {
				best = i
			}
		}
	}
	// A literal pattern without a slash matches a segment at any depth.
	if len(x.segment) > 0 {
		rest := path
		for rest != "" {
			seg, tail, more := strings.Cut(rest, "/")
			for _, i := range x.segment[seg] {
				if i > best && !(!more && x.dirOnly[i]) {
					best = i
				}
			}
			rest = tail
		}
	}
	for j := len(x.wild) - 1; j >= 0 && x.wild[j] > best; j-- {
		if x.single[j].Match(path) != nil {
			best = x.wild[j]
			break
		}
	}
	if best < 0 {
		return nil
	}
	return x.rules[best].Owners
}
