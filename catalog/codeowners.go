// GitHub's CODEOWNERS semantics in one file (over 500 lines): parsing, the token matcher and
// the index of literal parts that lets a 3 MB file match a path in microseconds.

package catalog

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// CodeOwnersPaths are where GitHub looks for a CODEOWNERS file, in its
// lookup order: "If CODEOWNERS files exist in more than one of those
// locations, GitHub will search for them in that order and use the first
// one it finds" (.github/, then the root, then docs/; GitHub docs, "About
// code owners").
var CodeOwnersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// MaxCodeOwnersSize is GitHub's limit: "CODEOWNERS files must be under 3 MB
// in size. A CODEOWNERS file over this limit will not be loaded."
const MaxCodeOwnersSize = 3 << 20

// CodeOwners is a parsed CODEOWNERS file. It is safe for concurrent reads.
type CodeOwners struct {
	// Rules are the valid lines, in file order.
	Rules []CodeOwnersRule
	// Errors are the lines GitHub would skip as invalid (a negated
	// pattern, a character range); the rest of the file still applies.
	// Their Path is "CODEOWNERS"; a caller that knows the file sets it.
	Errors []ProcessingError

	idx *codeOwnersIndex // built by ParseCodeOwners; nil: match rule by rule
}

// codeOwnersIndex finds the deciding rule without matching every line:
// lines whose pattern is a literal path (most lines of a real file) are
// looked up by the path's ancestors and segments, and wildcard lines by a
// literal part of their pattern that the path must contain: a whole
// segment ("/services/*/docs/" needs a "docs" segment) or else a run of
// characters within a segment ("*.md" needs ".md"). Only the few lines
// left, made of wildcards alone ("*", "/*/"), are tried on every path. A
// line whose pattern is repeated later never decides, so it is left out.
// A CODEOWNERS file of a large monorepo has a line per service, so this
// keeps a lookup independent of the file's length.
type codeOwnersIndex struct {
	dirOnly []bool  // by rule: the pattern ends in "/"
	prev    []int32 // by rule: the next older rule under the same key, or -1

	// Each map holds the newest rule under a key; prev links the older ones.
	anchored    map[string]int32 // literal patterns with a slash, without slashes at the ends
	segment     map[string]int32 // literal patterns without a slash: the segment
	wildSegment map[string]int32 // wildcard rules keyed by a literal segment they need
	wildRun     map[string]int32 // wildcard rules keyed by a literal run a segment must contain
	runLens     []int            // the distinct lengths of wildRun's keys, ascending
	wild        []int32          // wildcard rules without a literal key, ascending
}

func newCodeOwnersIndex(rules []CodeOwnersRule) *codeOwnersIndex {
	x := &codeOwnersIndex{dirOnly: make([]bool, len(rules)), prev: make([]int32, len(rules))}
	push := func(m map[string]int32, k string, i int) {
		x.prev[i] = -1
		if j, ok := m[k]; ok {
			x.prev[i] = j
		}
		m[k] = int32(i)
	}
	// Sized first: growing maps of 100,000 keys doubles what they cost.
	var nanchored, nsegment, nkeys int
	var wild []int
	for i, r := range rules {
		p := r.Pattern
		x.dirOnly[i] = strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		switch {
		case p == "" || strings.ContainsAny(p, "*?"):
			wild = append(wild, i)
			wildKeys(p, func(wildKey) { nkeys++ })
		case strings.Contains(p, "/"):
			nanchored++
		default:
			nsegment++
		}
	}
	x.anchored, x.segment = make(map[string]int32, nanchored), make(map[string]int32, nsegment)
	x.wildSegment, x.wildRun = map[string]int32{}, make(map[string]int32, len(wild))
	for i, r := range rules {
		p := strings.TrimSuffix(r.Pattern, "/")
		switch {
		case p == "" || strings.ContainsAny(p, "*?"):
		case strings.Contains(p, "/"):
			push(x.anchored, strings.TrimPrefix(p, "/"), i)
		default:
			push(x.segment, p, i)
		}
	}
	// A wildcard line whose pattern comes again later never decides;
	// leaving it out keeps a repeated line from being tried over and over.
	last := make(map[string]int, len(wild))
	count := make(map[wildKey]int32, nkeys)
	for _, i := range wild {
		last[rules[i].Pattern] = i
		wildKeys(strings.TrimSuffix(rules[i].Pattern, "/"), func(k wildKey) { count[k]++ })
	}
	lens := map[int]bool{}
	for _, i := range wild {
		if last[rules[i].Pattern] != i {
			continue
		}
		// The rarest key leaves the fewest rules to try on a path that
		// has it; between equals, a whole segment is the cheaper lookup.
		var best wildKey
		found := false
		wildKeys(strings.TrimSuffix(rules[i].Pattern, "/"), func(k wildKey) {
			if !found || count[k] < count[best] || (count[k] == count[best] && best.run && !k.run) {
				best, found = k, true
			}
		})
		switch {
		case !found:
			x.wild = append(x.wild, int32(i))
		case best.run:
			push(x.wildRun, best.s, i)
			lens[len(best.s)] = true
		default:
			push(x.wildSegment, best.s, i)
		}
	}
	for n := range lens {
		x.runLens = append(x.runLens, n)
	}
	sort.Ints(x.runLens)
	return x
}

// wildKey is a literal part of a wildcard pattern that a matching path
// must contain.
type wildKey struct {
	run bool   // a run within a segment, else a whole segment
	s   string // never empty
}

// wildKeys calls f with each key of wildcard pattern p (without its
// trailing slash): its literal segments and, within the other segments,
// the runs between wildcards.
func wildKeys(p string, f func(wildKey)) {
	for rest := strings.TrimPrefix(p, "/"); rest != ""; {
		seg, tail, _ := strings.Cut(rest, "/")
		rest = tail
		switch {
		case seg == "" || seg == "**":
		case !strings.ContainsAny(seg, "*?"):
			f(wildKey{s: seg})
		default:
			for seg != "" {
				var run string
				if i := strings.IndexAny(seg, "*?"); i >= 0 {
					run, seg = seg[:i], seg[i+1:]
				} else {
					run, seg = seg, ""
				}
				if run != "" {
					f(wildKey{run: true, s: run})
				}
			}
		}
	}
}

// best returns the index of the deciding rule for path, or -1.
func (x *codeOwnersIndex) best(rules []CodeOwnersRule, path string) int {
	best := -1
	// A literal anchored pattern matches the path itself (unless it names
	// a directory) and everything below it: look up every ancestor.
	for end := len(path); end > 0; end = strings.LastIndexByte(path[:end], '/') {
		whole := end == len(path)
		if i, ok := x.anchored[path[:end]]; ok {
			best = x.newest(i, best, whole)
		}
	}
	// A literal pattern without a slash matches a segment at any depth.
	for rest := path; rest != "" && len(x.segment) > 0; {
		seg, tail, more := strings.Cut(rest, "/")
		if i, ok := x.segment[seg]; ok {
			best = x.newest(i, best, !more)
		}
		rest = tail
	}
	if i := x.wildBest(path, best, func(i int) bool { return rules[i].g.match(path) }); i >= 0 {
		return i
	}
	return best
}

// newest returns the newest rule of the chain from i that applies (not a
// directory-only pattern when whole, the path itself, is matched), or
// best when there is none newer than best.
func (x *codeOwnersIndex) newest(i int32, best int, whole bool) int {
	for ; i >= 0 && int(i) > best; i = x.prev[i] {
		if !(whole && x.dirOnly[i]) {
			return int(i)
		}
	}
	return best
}

// wildBest tries, newest first, the wildcard rules above floor that path
// could match, and returns the first for which match is true, or -1.
func (x *codeOwnersIndex) wildBest(path string, floor int, match func(int) bool) int {
	var buf [32]int
	cand := buf[:0]
	add := func(i int32, ok bool) {
		for ; ok && i >= 0 && int(i) > floor; i = x.prev[i] {
			cand = append(cand, int(i))
		}
	}
	for rest := path; rest != "" && (len(x.wildSegment) > 0 || len(x.wildRun) > 0); {
		seg, tail, _ := strings.Cut(rest, "/")
		add(lookup(x.wildSegment, seg))
		for _, n := range x.runLens {
			for j := 0; j+n <= len(seg); j++ {
				add(lookup(x.wildRun, seg[j:j+n]))
			}
		}
		rest = tail
	}
	slices.Sort(cand)
	// Merge, newest first, the keyed candidates with the unkeyed rules.
	w := len(x.wild) - 1
	prev := -1
	for c := len(cand) - 1; c >= 0 || w >= 0; {
		var i int
		if c >= 0 && (w < 0 || cand[c] > int(x.wild[w])) {
			i = cand[c]
			c--
		} else {
			i = int(x.wild[w])
			w--
		}
		if i <= floor {
			break
		}
		if i == prev {
			continue // found under two keys of one path
		}
		prev = i
		if match(i) {
			return i
		}
	}
	return -1
}

func lookup(m map[string]int32, k string) (int32, bool) {
	i, ok := m[k]
	return i, ok
}

// CodeOwnersRule is one line of a CODEOWNERS file.
type CodeOwnersRule struct {
	Pattern string
	// Owners as written: "@org/team", "@user" or an email address. Empty
	// when the line un-assigns the paths it matches.
	Owners []string
	Line   int

	g glob
}

// ParseCodeOwners reads a CODEOWNERS file with GitHub's syntax: one
// gitignore-style pattern per line followed by owners, "#" comments (also
// after the owners), backslash-escaped spaces in patterns. Lines GitHub
// would skip are listed in Errors. The error is for a failed read or a file
// over MaxCodeOwnersSize.
func ParseCodeOwners(r io.Reader) (*CodeOwners, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxCodeOwnersSize+1))
	if err != nil {
		return nil, fmt.Errorf("codeowners: %w", err)
	}
	if len(data) > MaxCodeOwnersSize {
		return nil, fmt.Errorf("codeowners: file is larger than %d MB", MaxCodeOwnersSize>>20)
	}
	co := &CodeOwners{Rules: make([]CodeOwnersRule, 0, bytes.Count(data, []byte("\n"))+1)}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 64<<10), MaxCodeOwnersSize+1)
	for n := 1; sc.Scan(); n++ {
		fields := splitCodeOwnersLine(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pat := fields[0]
		g, err := compileCodeOwnersPattern(pat)
		if err != nil {
			co.Errors = append(co.Errors, ProcessingError{Path: "CODEOWNERS", Line: n, Message: err.Error()})
			continue
		}
		co.Rules = append(co.Rules, CodeOwnersRule{Pattern: pat, Owners: fields[1:], Line: n, g: g})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("codeowners: %w", err)
	}
	co.idx = newCodeOwnersIndex(co.Rules)
	return co, nil
}

// splitCodeOwnersLine splits a line into pattern and owners, dropping a
// comment: a "#" that starts a field. A backslash escapes the next
// character (GitHub: "escape spaces in paths with \").
func splitCodeOwnersLine(line string) []string {
	var fields []string
	var cur strings.Builder
	start := -1 // the current field is line[start:i] while it has no escape
	in := false
	end := func(i int) {
		if start >= 0 {
			fields = append(fields, line[start:i]) // shares line's memory
		} else {
			fields = append(fields, cur.String())
			cur.Reset()
		}
		start, in = -1, false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			if start >= 0 {
				cur.WriteString(line[start:i])
				start = -1
			}
			i++
			cur.WriteByte(line[i])
			in = true
		case c == ' ' || c == '\t' || c == '\r':
			if in {
				end(i)
			}
		case c == '#' && !in:
			return fields
		default:
			if !in {
				start = i
			} else if start < 0 {
				cur.WriteByte(c)
			}
			in = true
		}
	}
	if in {
		end(len(line))
	}
	return fields
}

// compileCodeOwnersPattern turns a pattern into a matcher of
// slash-separated paths relative to the repository root, with gitignore's
// rules as GitHub applies them: a pattern with a slash at its start or in
// its middle is anchored at the root, otherwise it matches at any depth;
// "*" and "?" stay within one path segment, "**" spans segments; a
// pattern that matches a directory owns everything below it, except that
// "dir/*" matches only the files directly in dir (GitHub's example:
// "docs/*" matches docs/getting-started.md but not
// docs/build-app/troubleshooting.md). Negation ("!") and character ranges
// ("[ ]") do not work in CODEOWNERS.
//
// The matcher is a list of tokens rather than a regexp: a 3 MB file has
// some 80,000 lines, and a regexp each took seconds to compile and ~300 MB.
func compileCodeOwnersPattern(pat string) (glob, error) {
	switch {
	case strings.HasPrefix(pat, "!"):
		return glob{}, fmt.Errorf("pattern %s: negation (!) is not supported in CODEOWNERS", quote(pat))
	case strings.ContainsAny(pat, "[]"):
		return glob{}, fmt.Errorf("pattern %s: character ranges ([ ]) are not supported in CODEOWNERS", quote(pat))
	}
	p := pat
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		if dirOnly {
			// "/" alone names the root directory: everything.
			return glob{all: true}, nil
		}
		return glob{}, fmt.Errorf("pattern %s: empty", quote(pat))
	}
	// Literal runs are slices of p: the separators between segments are
	// in it too.
	var scratch [8]globTok
	toks := scratch[:0]
	litStart := -1
	flush := func(end int) {
		if litStart >= 0 && end > litStart {
			toks = append(toks, globTok{kind: tokLit, lit: p[litStart:end]})
		}
		litStart = -1
	}
	if !anchored {
		toks = append(toks, globTok{kind: tokDirs})
	}
	var seg string
	for pos, rest := 0, p; ; {
		var tail string
		var more bool
		seg, tail, more = strings.Cut(rest, "/")
		if seg == "**" {
			flush(pos)
			if more {
				toks = append(toks, globTok{kind: tokDirs}) // "**/" and "/**/": zero or more directories
			} else {
				toks = append(toks, globTok{kind: tokAny}) // "x/**": everything inside x; "**" alone: everything
			}
		} else {
			for j := 0; j < len(seg); j++ {
				switch seg[j] {
				case '*':
					pending := litStart >= 0
					flush(pos + j)
					if pending || len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
						toks = append(toks, globTok{kind: tokStar}) // "**" inside a segment is one "*"
					}
				case '?':
					flush(pos + j)
					toks = append(toks, globTok{kind: tokOne})
				default:
					if litStart < 0 {
						litStart = pos + j
					}
				}
			}
			if more && litStart < 0 {
				litStart = pos + len(seg) // the separator
			}
		}
		if !more {
			break
		}
		pos += len(seg) + 1
		rest = tail
	}
	flush(len(p))
	g := glob{toks: slices.Clone(toks)}
	switch {
	case anchored && seg == "*":
		g.end = endExact
	case dirOnly:
		g.end = endDir
	}
	return g, nil
}

// glob matches a path against one compiled CODEOWNERS pattern.
type glob struct {
	all  bool // the pattern "/": every path
	toks []globTok
	end  globEnd
}

type globKind uint8

const (
	tokLit  globKind = iota // the text lit
	tokStar                 // any run of characters but "/"
	tokOne                  // one character but "/"
	tokAny                  // any run of characters
	tokDirs                 // nothing, or any run ending in "/"
)

type globTok struct {
	kind globKind
	lit  string
}

// globEnd is what may follow the tokens.
type globEnd uint8

const (
	endSubtree globEnd = iota // nothing, or "/" and anything: a file or a directory's contents
	endDir                    // "/" and anything: a directory's contents only
	endExact                  // nothing ("dir/*": files directly in dir)
)

// match reports whether path matches. It tracks the set of positions in
// path that the tokens so far can reach, so its cost is at most
// len(path) times the number of tokens, whatever the pattern.
func (g *glob) match(path string) bool {
	if g.all {
		return true
	}
	n := len(path)
	var a, b [256]bool
	cur, next := a[:], b[:]
	if n+1 > len(a) {
		cur, next = make([]bool, n+1), make([]bool, n+1)
	}
	cur, next = cur[:n+1], next[:n+1]
	clear(cur)
	cur[0] = true
	for _, t := range g.toks {
		clear(next)
		reached := false
		switch t.kind {
		case tokLit:
			for p := 0; p+len(t.lit) <= n; p++ {
				if cur[p] && path[p:p+len(t.lit)] == t.lit {
					next[p+len(t.lit)], reached = true, true
				}
			}
		case tokOne:
			for p := 0; p < n; p++ {
				if cur[p] && path[p] != '/' {
					next[p+1], reached = true, true
				}
			}
		case tokStar, tokAny:
			for q := 0; q <= n; q++ {
				next[q] = cur[q] || (q > 0 && next[q-1] && (t.kind == tokAny || path[q-1] != '/'))
				reached = reached || next[q]
			}
		case tokDirs:
			seen := false
			for q := 0; q <= n; q++ {
				next[q] = cur[q] || (seen && path[q-1] == '/')
				seen = seen || cur[q]
				reached = reached || next[q]
			}
		}
		if !reached {
			return false
		}
		cur, next = next, cur
	}
	for p := 0; p <= n; p++ {
		if !cur[p] {
			continue
		}
		switch g.end {
		case endExact:
			if p == n {
				return true
			}
		case endDir:
			if p < n && path[p] == '/' {
				return true
			}
		default:
			if p == n || path[p] == '/' {
				return true
			}
		}
	}
	return false
}

// Match returns the rule that decides path's owners: the last rule whose
// pattern matches it, or nil. path is slash-separated and relative to the
// repository root; a leading "/" or "./" is ignored. Matching is
// case-sensitive, as on GitHub.
func (c *CodeOwners) Match(path string) *CodeOwnersRule {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "./"), "/")
	if c.idx != nil {
		if i := c.idx.best(c.Rules, path); i >= 0 {
			return &c.Rules[i]
		}
		return nil
	}
	for i := len(c.Rules) - 1; i >= 0; i-- {
		if c.Rules[i].g.match(path) {
			return &c.Rules[i]
		}
	}
	return nil
}

// Owners returns the owners of path as written in the file, or nil when no
// rule matches or the matching rule assigns no owners.
func (c *CodeOwners) Owners(path string) []string {
	if r := c.Match(path); r != nil && len(r.Owners) > 0 {
		return r.Owners
	}
	return nil
}
