package catalog_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/portalbot/portalbot/catalog"
)

// gitHubExample follows the example in GitHub's "About code owners" page.
const gitHubExample = `# Lines starting with '#' are comments.
*       @global-owner1 @global-owner2

*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
path\ with\ spaces/ @spacey
src/**/gen/ @codegen
!negated @nobody
[Bb]uild/ @nobody
`

func TestCodeOwners(t *testing.T) {
	co, err := catalog.ParseCodeOwners(strings.NewReader(gitHubExample))
	if err != nil {
		t.Fatal(err)
	}
	global := []string{"@global-owner1", "@global-owner2"}
	tests := []struct {
		path string
		want []string
	}{
		{"README.md", global},
		{"web/app.js", []string{"@js-owner"}},
		{"main.go", []string{"docs@example.com"}},
		{"notes/todo.txt", []string{"@octo-org/octocats"}},
		{"build/logs/today.log", []string{"@octocat"}}, // **/logs comes later
		{"build/logs", []string{"@octocat"}},           // **/logs names files too
		{"build/logs.txt", []string{"@octo-org/octocats"}},
		{"docs/getting-started.md", []string{"@doctocat"}},
		{"docs/build-app/troubleshooting.md", []string{"@doctocat"}},
		{"deeply/nested/logs/x.log", []string{"@octocat"}},
		{"apps/web/index.html", []string{"@octocat"}},
		{"lib/apps/x.py", []string{"@octocat"}},
		{"apps/github/x.rb", nil}, // un-assigned by an owner-less line
		{"apps/github", nil},
		{"scripts/deploy.sh", []string{"@doctocat", "@octocat"}},
		{"/scripts/deploy.sh", []string{"@doctocat", "@octocat"}},
		{"./scripts/deploy.sh", []string{"@doctocat", "@octocat"}},
		{"path with spaces/a.md", []string{"@spacey"}},
		{"src/gen/a.go", []string{"@codegen"}},
		{"src/x/y/gen/a.go", []string{"@codegen"}},
		{"Scripts/deploy.sh", global}, // case-sensitive
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, co.Owners(tt.path)); diff != "" {
			t.Errorf("Owners(%q) (-want +got):\n%s", tt.path, diff)
		}
	}
	var errs []string
	for _, e := range co.Errors {
		errs = append(errs, e.String())
	}
	wantErrs := []string{
		`CODEOWNERS:17: pattern "!negated": negation (!) is not supported in CODEOWNERS`,
		`CODEOWNERS:18: pattern "[Bb]uild/": character ranges ([ ]) are not supported in CODEOWNERS`,
	}
	if diff := cmp.Diff(wantErrs, errs); diff != "" {
		t.Errorf("Errors (-want +got):\n%s", diff)
	}
	if r := co.Match("apps/github/x"); r == nil || r.Line != 14 {
		t.Errorf("Match(apps/github/x) = %+v, want the rule on line 14", r)
	}
}

func TestCodeOwnersPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"*", []string{"a", "a/b/c"}, nil},
		{"/*", []string{"a.md"}, []string{"a/b.md"}},
		{"/", []string{"a", "a/b"}, nil},
		{"foo", []string{"foo", "a/foo", "foo/bar", "a/foo/bar"}, []string{"foobar", "a/xfoo"}},
		{"/foo", []string{"foo", "foo/bar"}, []string{"a/foo"}},
		{"foo/", []string{"foo/x", "a/foo/x"}, []string{"foo"}},
		{"a/b", []string{"a/b", "a/b/c"}, []string{"x/a/b"}},
		{"a/**", []string{"a/x", "a/x/y"}, []string{"b/a/x"}},
		{"**/b", []string{"b", "a/b", "a/c/b/d"}, []string{"ab"}},
		{"a/**/b", []string{"a/b", "a/x/b", "a/x/y/b/z"}, []string{"a/xb"}},
		{"*.md", []string{"x.md", "d/x.md"}, []string{"x.mdx"}},
		{"doc?.txt", []string{"doc1.txt"}, []string{"doc12.txt", "doc/.txt"}},
		{"a.b", []string{"a.b"}, []string{"axb"}}, // regexp metacharacters are literal
		{"/src/*.go", []string{"src/a.go"}, []string{"src/x/a.go"}},
	}
	for _, tt := range tests {
		co, err := catalog.ParseCodeOwners(strings.NewReader(tt.pattern + " @o\n"))
		if err != nil || len(co.Rules) != 1 {
			t.Fatalf("ParseCodeOwners(%q) = %v, %v", tt.pattern, co, err)
		}
		for _, p := range tt.match {
			if co.Match(p) == nil {
				t.Errorf("pattern %q does not match %q, want a match", tt.pattern, p)
			}
		}
		for _, p := range tt.miss {
			if co.Match(p) != nil {
				t.Errorf("pattern %q matches %q, want none", tt.pattern, p)
			}
		}
	}
}

func TestCodeOwnersLimits(t *testing.T) {
	big := strings.Repeat("# comment\n", catalog.MaxCodeOwnersSize/10+1)
	if _, err := catalog.ParseCodeOwners(strings.NewReader(big)); err == nil {
		t.Errorf("ParseCodeOwners(%d bytes) = nil error, want too large", len(big))
	}
	if got := catalog.CodeOwnersPaths; got[0] != ".github/CODEOWNERS" || got[1] != "CODEOWNERS" || got[2] != "docs/CODEOWNERS" {
		t.Errorf("CodeOwnersPaths = %v, want GitHub's order .github/, root, docs/", got)
	}
}

// largeCodeOwners returns a CODEOWNERS file just under GitHub's limit made
// of lines produced by line(i): the shape of a big monorepo's file.
func largeCodeOwners(line func(i int) string) string {
	var b strings.Builder
	for i := 0; ; i++ {
		l := line(i)
		if b.Len()+len(l) > catalog.MaxCodeOwnersSize {
			return b.String()
		}
		b.WriteString(l)
	}
}

// TestParseCodeOwnersLargeFile parses 3 MB files of literal and of
// wildcard lines and checks what parsing costs in memory and that lines
// anywhere in the file decide. A regexp per line kept 240-315 MB live
// (and took 5-10 s per file); the rules and index now allocate 20-70 MB
// in all, most for the 121,000 short lines of the "extension" shape.
func TestParseCodeOwnersLargeFile(t *testing.T) {
	shapes := []struct {
		name string
		line func(i int) string
		path func(i int) string
	}{
		{"literal", func(i int) string { return fmt.Sprintf("/services/service-%d/ @acme/team-%d\n", i, i%1000) },
			func(i int) string { return fmt.Sprintf("services/service-%d/catalog-info.yaml", i) }},
		{"wildcard", func(i int) string { return fmt.Sprintf("/services/service-%d/**/*.yaml @acme/team-%d\n", i, i%1000) },
			func(i int) string { return fmt.Sprintf("services/service-%d/api/catalog-info.yaml", i) }},
		{"extension", func(i int) string { return fmt.Sprintf("*.ext%d @acme/team-%d\n", i, i%1000) },
			func(i int) string { return fmt.Sprintf("src/x/file.ext%d", i) }},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			data := largeCodeOwners(sh.line)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			co, err := catalog.ParseCodeOwners(strings.NewReader(data))
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			n := len(co.Rules)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32*uint64(len(data)) {
				t.Errorf("ParseCodeOwners(%d bytes, %d lines) allocated %d MB, want at most %d MB", len(data), n, alloc>>20, 32*len(data)>>20)
			}
			for _, i := range []int{0, n / 2, n - 1} {
				want := fmt.Sprintf("@acme/team-%d", i%1000)
				if got := co.Owners(sh.path(i)); len(got) != 1 || got[0] != want {
					t.Errorf("Owners(%q) = %v, want [%s]", sh.path(i), got, want)
				}
			}
		})
	}
}

// BenchmarkCodeOwners parses 3 MB CODEOWNERS files of each shape and
// matches paths against them: "parse" is a whole file, "match" one path.
func BenchmarkCodeOwners(b *testing.B) {
	shapes := []struct {
		name string
		line func(i int) string
		path func(i int) string
	}{
		{"literal", func(i int) string { return fmt.Sprintf("/services/service-%d/ @acme/team-%d\n", i, i%1000) },
			func(i int) string { return fmt.Sprintf("services/service-%d/catalog-info.yaml", i) }},
		{"wildcard", func(i int) string { return fmt.Sprintf("/services/service-%d/**/*.yaml @acme/team-%d\n", i, i%1000) },
			func(i int) string { return fmt.Sprintf("services/service-%d/api/catalog-info.yaml", i) }},
		{"extension", func(i int) string { return fmt.Sprintf("*.ext%d @acme/team-%d\n", i, i%1000) },
			func(i int) string { return fmt.Sprintf("src/x/file.ext%d", i) }},
	}
	for _, sh := range shapes {
		data := largeCodeOwners(sh.line)
		b.Run("parse/"+sh.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := catalog.ParseCodeOwners(strings.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		co, err := catalog.ParseCodeOwners(strings.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		n := len(co.Rules)
		b.Run("match/"+sh.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if co.Match(sh.path(i%n)) == nil {
					b.Fatal("no match")
				}
				i += 7919
			}
		})
	}
}
