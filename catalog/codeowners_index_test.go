package catalog

import (
	"fmt"
	"math/rand/v2"
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
	}
	paths := []string{
		"catalog-info.yaml", "apps/payments/catalog-info.yaml", "apps/payments", "apps/search/catalog-info.yaml",
		"docs/index.md", "docs/guide/catalog-info.yaml", "x/docs/catalog-info.yaml", "docs", "services/ledger/catalog-info.yaml",
		"services/ledger", "a/b/ledger/c.yaml", "logs/x", "a/logs/y/z", "apps/x/api/catalog-info.yaml", "./apps/payments/catalog-info.yaml",
		"/docs/index.md", "README.md",
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
