package catalog_test

import (
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
