package catalog

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCodeOwnersIndexAgrees checks the index against matching rule by
// rule on every combination of a set of patterns and paths, in random orders.
func TestCodeOwnersIndexAgrees(t *testing.T) {
	patterns := []string{
		"*", "/", "*.md", "docs", "docs/", "/docs", "/docs/", "docs/*", "/docs/*", "**/logs", "/apps/**/api/",
		"apps/payments", "/apps/payments/", "/apps/payments", "apps", "apps/", "catalog-info.yaml",
		"/apps/payments/catalog-info.yaml", "?pps", "/apps/*/catalog-info.yaml", "services/ledger/", "/services/", "ledger",
		"*.yaml", "/apps/*/api/", "/services/led?er/", "**/api/*.yaml", "src/**/gen/", "*-tool", "led*", "/*/catalog-info.yaml",
		"**", "/**/", "apps/**", "*/x/*", "**/payments/**",
	}
	paths := []string{
		"catalog-info.yaml", "apps/payments/catalog-info.yaml", "apps/payments", "apps/search/catalog-info.yaml",
		"docs/index.md", "docs/guide/catalog-info.yaml", "x/docs/catalog-info.yaml", "docs", "services/ledger/catalog-info.yaml",
		"services/ledger", "a/b/ledger/c.yaml", "logs/x", "a/logs/y/z", "apps/x/api/catalog-info.yaml", "./apps/payments/catalog-info.yaml",
		"/docs/index.md", "README.md", "alice-tool/catalog-info.yaml", "apps/x/api/openapi.yaml", "src/a/gen/x.go",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + rng.IntN(8)
		var b strings.Builder
		var lines []string
		for i := range n {
			p := patterns[rng.IntN(len(patterns))]
			owner := fmt.Sprintf("@acme/t%d", i)
			if rng.IntN(6) == 0 {
				owner = "" // un-assigns
			}
			lines = append(lines, p+" "+owner)
			fmt.Fprintln(&b, p, owner)
		}
		co, err := ParseCodeOwners(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		plain := &CodeOwners{Rules: co.Rules}
		for _, p := range paths {
			if got, want := co.Owners(p), plain.Owners(p); !slices.Equal(got, want) {
				t.Fatalf("round %d: index.Owners(%q) = %v, want %v; CODEOWNERS:\n%s", round, p, got, want, strings.Join(lines, "\n"))
			}
		}
	}
}

// referenceRegexp is the regexp the matcher replaced, kept as the
// reference for gitignore's rules as GitHub applies them.
func referenceRegexp(pat string) *regexp.Regexp {
	p := pat
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	anchored := strings.Contains(p, "/")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return regexp.MustCompile(`^`)
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
			if last {
				b.WriteString(".*")
			} else {
				b.WriteString("(?:.*/)?")
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
	return regexp.MustCompile(b.String())
}

// TestGlobAgreesWithRegexp checks the matcher against the reference
// regexp on random patterns and paths over a small alphabet, so that
// wildcards, separators and literals meet in every arrangement.
func TestGlobAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(parts []string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		return b.String()
	}
	patParts := []string{"a", "b", "ab", ".", "/", "*", "**", "?", "**/", "/**/"}
	pathParts := []string{"a", "b", "ab", "ba", ".", "/", "aa"}
	for range 3000 {
		pat := pick(patParts, 1+rng.IntN(6))
		if strings.Trim(pat, "/") == "" && pat != "/" {
			continue
		}
		g, err := compileCodeOwnersPattern(pat)
		if err != nil {
			t.Fatalf("compileCodeOwnersPattern(%q): %v", pat, err)
		}
		re := referenceRegexp(pat)
		for range 30 {
			path := pick(pathParts, rng.IntN(7))
			if got, want := g.match(path), re.MatchString(path); got != want {
				t.Fatalf("pattern %q .match(%q) = %v, want %v (regexp %s)", pat, path, got, want, re)
			}
		}
	}
}

// TestCodeOwnersIndexTriesFewRules checks that in 1 MB files of wildcard
// lines, a path leads to a handful of lines to try, not to every line:
// matching rule by rule took 0.1-1.3 s per path, and a drift report
// matches every descriptor of the catalog.
func TestCodeOwnersIndexTriesFewRules(t *testing.T) {
	shapes := []struct {
		name string
		line func(i int) string
		path func(i int) string
	}{
		{"segment", func(i int) string { return fmt.Sprintf("/services/service-%d/**/*.yaml @acme/t\n", i) },
			func(i int) string { return fmt.Sprintf("services/service-%d/api/catalog-info.yaml", i) }},
		{"run", func(i int) string { return fmt.Sprintf("*.ext%d @acme/t\n", i) },
			func(i int) string { return fmt.Sprintf("src/x/file.ext%d", i) }},
		{"shared prefix", func(i int) string { return fmt.Sprintf("/services/*-%d/docs/ @acme/t\n", i) },
			func(i int) string { return fmt.Sprintf("services/svc-%d/docs/index.md", i) }},
	}
	for _, sh := range shapes {
		var b strings.Builder
		n := 0
		for ; b.Len() < MaxCodeOwnersSize/3; n++ { // 1 MB: enough lines to tell a handful from all
			b.WriteString(sh.line(n))
		}
		co, err := ParseCodeOwners(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 7, n / 2, n - 1} {
			p := sh.path(i)
			tried := 0
			co.idx.wildBest(p, -1, func(int) bool { tried++; return false })
			// "file.ext1234" contains the runs .ext1, .ext12 and .ext123 too.
			if tried > 8 {
				t.Errorf("%s: wildBest(%q) tried %d of %d lines, want a handful", sh.name, p, tried, n)
			}
			if r := co.Match(p); r == nil || r.Line != i+1 {
				t.Errorf("%s: Match(%q) = %+v, want line %d", sh.name, p, r, i+1)
			}
		}
	}
}
