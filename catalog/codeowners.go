package catalog

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
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
// looked up by the path's ancestors and segments; only wildcard lines are
// matched, newest first, and only those that could still win. A
// CODEOWNERS file of a large monorepo has a line per service, so this
// keeps a lookup independent of the file's length.
type codeOwnersIndex struct {
	dirOnly  []bool           // by rule: the pattern ends in "/"
	anchored map[string][]int // literal patterns with a slash, without slashes at the ends -> rules
	segment  map[string][]int // literal patterns without a slash: segment -> rules
	wild     []int            // the other rules, ascending
}

func newCodeOwnersIndex(rules []CodeOwnersRule) *codeOwnersIndex {
	x := &codeOwnersIndex{dirOnly: make([]bool, len(rules)), anchored: map[string][]int{}, segment: map[string][]int{}}
	for i, r := range rules {
		p := r.Pattern
		x.dirOnly[i] = strings.HasSuffix(p, "/")
		p = strings.TrimSuffix(p, "/")
		switch {
		case p == "" || strings.ContainsAny(p, "*?"):
			x.wild = append(x.wild, i)
		case strings.Contains(p, "/"):
			k := strings.TrimPrefix(p, "/")
			x.anchored[k] = append(x.anchored[k], i)
		default:
			x.segment[p] = append(x.segment[p], i)
		}
	}
	return x
}

// best returns the index of the deciding rule for path, or -1.
func (x *codeOwnersIndex) best(rules []CodeOwnersRule, path string) int {
	best := -1
	// A literal anchored pattern matches the path itself (unless it names
	// a directory) and everything below it: look up every ancestor.
	for end := len(path); end > 0; end = strings.LastIndexByte(path[:end], '/') {
		whole := end == len(path)
		for _, i := range x.anchored[path[:end]] {
			if i > best && !(whole && x.dirOnly[i]) {
				best = i
			}
		}
	}
	// A literal pattern without a slash matches a segment at any depth.
	for rest := path; rest != "" && len(x.segment) > 0; {
		seg, tail, more := strings.Cut(rest, "/")
		for _, i := range x.segment[seg] {
			if i > best && !(!more && x.dirOnly[i]) {
				best = i
			}
		}
		rest = tail
	}
	for j := len(x.wild) - 1; j >= 0 && x.wild[j] > best; j-- {
		if rules[x.wild[j]].re.MatchString(path) {
			return x.wild[j]
		}
	}
	return best
}

// CodeOwnersRule is one line of a CODEOWNERS file.
type CodeOwnersRule struct {
	Pattern string
	// Owners as written: "@org/team", "@user" or an email address. Empty
	// when the line un-assigns the paths it matches.
	Owners []string
	Line   int

	re *regexp.Regexp
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
	co := &CodeOwners{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 0, 64<<10), MaxCodeOwnersSize+1)
	for n := 1; sc.Scan(); n++ {
		fields := splitCodeOwnersLine(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pat := fields[0]
		re, err := compileCodeOwnersPattern(pat)
		if err != nil {
			co.Errors = append(co.Errors, ProcessingError{Path: "CODEOWNERS", Line: n, Message: err.Error()})
			continue
		}
		co.Rules = append(co.Rules, CodeOwnersRule{Pattern: pat, Owners: fields[1:], Line: n, re: re})
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
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			in = true
		case c == ' ' || c == '\t' || c == '\r':
			if in {
				fields = append(fields, cur.String())
				cur.Reset()
				in = false
			}
		case c == '#' && !in:
			return fields
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		fields = append(fields, cur.String())
	}
	return fields
}

// compileCodeOwnersPattern turns a pattern into a regexp over
// slash-separated paths relative to the repository root, with gitignore's
// rules as GitHub applies them: a pattern with a slash at its start or in
// its middle is anchored at the root, otherwise it matches at any depth;
// "*" and "?" stay within one path segment, "**" spans segments; a
// pattern that matches a directory owns everything below it, except that
// "dir/*" matches only the files directly in dir (GitHub's example:
// "docs/*" matches docs/getting-started.md but not
// docs/build-app/troubleshooting.md). Negation ("!") and character ranges
// ("[ ]") do not work in CODEOWNERS.
func compileCodeOwnersPattern(pat string) (*regexp.Regexp, error) {
	switch {
	case strings.HasPrefix(pat, "!"):
		return nil, fmt.Errorf("pattern %s: negation (!) is not supported in CODEOWNERS", quote(pat))
	case strings.ContainsAny(pat, "[]"):
		return nil, fmt.Errorf("pattern %s: character ranges ([ ]) are not supported in CODEOWNERS", quote(pat))
	}
	p := pat
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		if dirOnly {
			// "/" alone names the root directory: everything.
			return regexp.MustCompile(`^`), nil
		}
		return nil, fmt.Errorf("pattern %s: empty", quote(pat))
	}
	segs := strings.Split(p, "/")
	directOnly := anchored && segs[len(segs)-1] == "*"
	var b strings.Builder
	b.WriteString("^")
	if !anchored {
		b.WriteString("(?:.*/)?")
	}
	for i, seg := range segs {
		last := i == len(segs)-1
		if seg == "**" {
			switch {
			case last && i == 0:
				b.WriteString(".*")
			case last:
				b.WriteString(".*") // "x/**": everything inside x
			default:
				b.WriteString("(?:.*/)?") // "**/" and "/**/": zero or more directories
			}
			continue
		}
		for _, r := range seg {
			switch r {
			case '*':
				b.WriteString("[^/]*")
			case '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		if !last {
			b.WriteString("/")
		}
	}
	switch {
	case directOnly:
		b.WriteString("$")
	case dirOnly:
		b.WriteString("/.*$")
	default:
		b.WriteString("(?:/.*)?$")
	}
	return regexp.Compile(b.String())
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
		if c.Rules[i].re.MatchString(path) {
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
