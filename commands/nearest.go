package commands

import "strings"

// Nearest returns up to max of names that are close to what was typed, best
// first, with the rules of every did-you-mean in this package: a few typos,
// or q as a prefix or substring. Comparison ignores case; names are
// returned as given, each once. It reads every name, so it suits short
// lists (templates), not the catalog.
func Nearest(q string, names []string, max int) []string {
	lower := make([]string, 0, len(names))
	orig := make(map[string]string, len(names))
	for _, n := range names {
		l := strings.ToLower(n)
		if _, dup := orig[l]; dup {
			continue
		}
		orig[l] = n
		lower = append(lower, l)
	}
	out := nearest(strings.ToLower(strings.TrimSpace(q)), lower, max)
	for i, l := range out {
		out[i] = orig[l]
	}
	return out
}
