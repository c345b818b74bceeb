package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

const componentA = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"

// bigCodeOwners returns a CODEOWNERS file of at least size bytes: a line
// per library directory, as in a large monorepo, then last line.
func bigCodeOwners(size int, last string) string {
	var b strings.Builder
	for i := 0; b.Len() < size-len(last); i++ {
		fmt.Fprintf(&b, "/libs/lib-%06d/ @acme/team-%d\n", i, i%500)
	}
	b.WriteString(last)
	return b.String()
}

// TestCodeOwnersUpToGitHubLimit syncs a repository whose CODEOWNERS is
// 2.8 MB: under GitHub's 3 MB limit, so it is stored whole (it was dropped
// over 1 MiB, and the drift rule then found nothing).
func TestCodeOwnersUpToGitHubLimit(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		co := bigCodeOwners(2_800_000, "/catalog-info.yaml @acme/team-b\n")
		repo := newRepo(t, map[string]string{"catalog-info.yaml": componentA, "CODEOWNERS": co})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		res := mustSync(t, s, ingest.Source{Name: "acme/mono", Repo: repo})
		if len(res.Warnings) != 0 || len(res.Errors) != 0 {
			t.Errorf("Sync = warnings %v, errors %v, want none", res.Warnings, res.Errors)
		}
		src, err := st.Source(context.Background(), "acme/mono")
		if err != nil {
			t.Fatal(err)
		}
		if len(src.CodeOwners) != len(co) || src.CodeOwners != co {
			t.Errorf("Source(acme/mono).CodeOwners has %d bytes, want the %d-byte file", len(src.CodeOwners), len(co))
		}
	})
}

// TestCodeOwnersOverLimitReported syncs a repository whose first
// CODEOWNERS (in GitHub's lookup order) is over GitHub's limit: GitHub
// ignores it, so the catalog has none either, and the sync says so with
// the file and its size, in the result and on the source (/readyz shows
// the source's message).
func TestCodeOwnersOverLimitReported(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		co := bigCodeOwners(catalog.MaxCodeOwnersSize+1, "* @acme/team-b\n")
		repo := newRepo(t, map[string]string{"catalog-info.yaml": componentA, ".github/CODEOWNERS": co, "CODEOWNERS": "* @acme/team-c\n"})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		res := mustSync(t, s, ingest.Source{Name: "acme/mono", Repo: repo})
		if len(res.Warnings) != 1 {
			t.Fatalf("Sync().Warnings = %v, want one for .github/CODEOWNERS", res.Warnings)
		}
		w := res.Warnings[0]
		size := fmt.Sprint(len(co))
		if w.Source != "acme/mono" || w.Path != ".github/CODEOWNERS" || !strings.Contains(w.Message, size) {
			t.Errorf("Sync().Warnings[0] = %+v, want source acme/mono, file .github/CODEOWNERS, a message with the size %s", w, size)
		}
		src, err := st.Source(context.Background(), "acme/mono")
		if err != nil {
			t.Fatal(err)
		}
		if src.CodeOwners != "" || src.Status != "ok" || !strings.Contains(src.Message, ".github/CODEOWNERS") || !strings.Contains(src.Message, size) {
			t.Errorf("Source(acme/mono) = status %q, message %q, %d bytes of CODEOWNERS; want ok, a message naming the file and size, none stored",
				src.Status, src.Message, len(src.CodeOwners))
		}

		// Fixed: the warning goes away.
		commit(t, repo, map[string]string{".github/CODEOWNERS": "* @acme/team-b\n"})
		res = mustSync(t, s, ingest.Source{Name: "acme/mono", Repo: repo})
		src, err = st.Source(context.Background(), "acme/mono")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Warnings) != 0 || src.Message != "" || src.CodeOwners != "* @acme/team-b\n" {
			t.Errorf("after the fix: warnings %v, message %q, CODEOWNERS %q; want none, none, the new file", res.Warnings, src.Message, src.CodeOwners)
		}
	})
}
