package catalog_test

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/portalbot/portalbot/catalog"
)

// corpusDir is the shared corpus of real Backstage files, relative to this
// package's directory. It is not part of the repository: the tests using it
// skip when it is absent.
const corpusDir = "../../shared/corpus/backstage"

// corpusFiles lists the *.yaml and *.yml files under corpusDir/sub, leaving
// out template skeletons (skeleton/ and template/ directories hold ${{ }}
// placeholders until the scaffolder renders them).
func corpusFiles(tb testing.TB, sub string) []string {
	tb.Helper()
	root := filepath.Join(corpusDir, sub)
	if _, err := os.Stat(root); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("the shared Backstage corpus must be present in CI: %v", err)
		}
		tb.Skipf("Backstage corpus not present (%v); skipping", err)
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "skeleton" || d.Name() == "template") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func parseCorpus(t *testing.T, sub string) (map[string]*catalog.Entity, map[string]int) {
	t.Helper()
	byRef := make(map[string]*catalog.Entity)
	counts := make(map[string]int)
	for _, f := range corpusFiles(t, sub) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(corpusDir, f)
		if err != nil {
			t.Fatal(err)
		}
		res := catalog.ParseFile(fh, filepath.ToSlash(rel))
		fh.Close()
		for _, e := range res.Errors {
			t.Errorf("%s", e)
		}
		for _, e := range res.Entities {
			if prev, dup := byRef[e.Ref().String()]; dup {
				t.Errorf("%s defined in %s and %s", e.Ref(), prev.Origin.Path, e.Origin.Path)
			}
			byRef[e.Ref().String()] = e
			counts[e.Kind]++
		}
		// Only an OpenAPI document and mkdocs.yml are not descriptors.
		if len(res.Skipped) > 0 && !strings.HasSuffix(f, ".oas.yaml") && !strings.HasSuffix(f, "mkdocs.yml") {
			t.Errorf("%s: documents at lines %v skipped as not descriptors", rel, res.Skipped)
		}
	}
	return byRef, counts
}

// TestCorpusExamples checks Backstage's own examples: the counts that
// SOURCE.md states, and that every reference resolves inside the set.
func TestCorpusExamples(t *testing.T) {
	const examples = "packages/catalog-model/examples"
	byRef, counts := parseCorpus(t, examples)
	want := map[string]int{
		"User": 17, "Component": 13, "API": 10, "Location": 9, "Group": 8,
		"Domain": 3, "System": 3, "AiResource": 2, "Resource": 1,
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("entity counts (-want +got):\n%s", diff)
	}
	if len(byRef) != 66 {
		t.Errorf("%d distinct entities, want 66", len(byRef))
	}

	// SOURCE.md: every owner, system, domain, providesApis, consumesApis,
	// dependsOn, memberOf, parent, children and subcomponentOf reference
	// resolves inside the set, so every derived relation's ends exist.
	n := 0
	for _, e := range byRef {
		for _, r := range catalog.DeriveRelations(e) {
			n++
			for _, end := range []catalog.Ref{r.Source, r.Target} {
				if byRef[end.String()] == nil {
					t.Errorf("%s: relation %s %s %s names a missing entity %s", e.Origin.Path, r.Source, r.Type, r.Target, end)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no relations derived from the examples")
	}

	// Every Location target is a file of the corpus.
	for _, e := range byRef {
		if e.Kind != catalog.KindLocation {
			continue
		}
		targets := e.SpecStrings("targets")
		if t := e.SpecString("target"); t != "" {
			targets = append(targets, t)
		}
		for _, tg := range targets {
			p := path.Join(path.Dir(e.Origin.Path), tg)
			if _, err := os.Stat(filepath.Join(corpusDir, filepath.FromSlash(p))); err != nil {
				t.Errorf("%s: location target %s: %v", e.Ref(), tg, err)
			}
		}
	}

	rels := func(ref string) []string {
		var out []string
		e := byRef[ref]
		if e == nil {
			t.Fatalf("no entity %s", ref)
		}
		for _, r := range catalog.DeriveRelations(e) {
			if r.Source.Equal(e.Ref()) {
				out = append(out, r.Type+" "+r.TargetRef)
			}
		}
		return out
	}
	wantRels := map[string][]string{
		"component:default/artist-lookup": {
			"ownedBy group:default/team-a", "dependsOn resource:default/artists-db",
			"partOf system:default/artist-engagement-portal",
		},
		"user:default/breanna.davison":     {"memberOf group:default/team-a"},
		"group:default/team-a":             {"childOf group:default/backstage"},
		"api:default/backstage-mcp-server": {"ownedBy group:default/team-a"},
	}
	for ref, want := range wantRels {
		if diff := cmp.Diff(want, rels(ref)); diff != "" {
			t.Errorf("DeriveRelations(%s) forward edges (-want +got):\n%s", ref, diff)
		}
	}
}

// TestCorpusAll checks that every descriptor of the corpus is valid: the
// templates, the software-templates repository and the demo site's files.
func TestCorpusAll(t *testing.T) {
	byRef, counts := parseCorpus(t, "")
	if counts["Template"] < 13 {
		t.Errorf("%d templates parsed, want at least 13", counts["Template"])
	}
	if e := byRef["api:default/github-mcp-server"]; e == nil || e.Spec["remotes"] == nil {
		t.Errorf("api:default/github-mcp-server (with spec.remotes) missing")
	}
}
