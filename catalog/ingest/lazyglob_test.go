package ingest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// TestGlobWalkedLateKeepsOrder: a glob is walked when discovery reaches it,
// not when its Location is handled, yet the file it matches is read at the
// glob's place even when a Location handled meanwhile queued the same file
// further back. Here a.yaml (a Location) names late/x.yaml exactly, and
// is handled, twenty files ahead, before the root's glob late/*.yaml is
// walked; z.yaml, listed after the glob, defines the same component as
// late/x.yaml, which must win as the glob's match.
func TestGlobWalkedLateKeepsOrder(t *testing.T) {
	files := map[string]string{
		"a.yaml":      "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: a\nspec:\n  targets: [./late/x.yaml]\n",
		"late/x.yaml": service("contested", "team-glob"),
		"z.yaml":      service("contested", "team-z"),
	}
	targets := []string{"./a.yaml"}
	for i := range 20 {
		p := fmt.Sprintf("f%02d.yaml", i)
		files[p] = service(fmt.Sprintf("filler-%d", i), "team-f")
		targets = append(targets, "./"+p)
	}
	targets = append(targets, "./late/*.yaml", "./z.yaml")
	files["catalog-info.yaml"] = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [" + strings.Join(targets, ", ") + "]\n"
	repo := newRepo(t, files)
	check := func(t *testing.T, st *sqlstore.Store) {
		t.Helper()
		res := mustSync(t, ingest.New(st, ingest.Options{}), ingest.Source{Name: "late", Repo: repo})
		e := entity(t, st, "component:contested")
		if o, _ := e.Owner(); e.Origin.Path != "late/x.yaml" || o.Name != "team-glob" {
			t.Errorf("GOMAXPROCS %d: contested from %s owned by %s, want late/x.yaml and team-glob", runtime.GOMAXPROCS(0), e.Origin.Path, o.Name)
		}
		if errs := errorsOf(res, "z.yaml"); len(errs) != 1 || !strings.Contains(errs[0].Message, "already defined in late/x.yaml") {
			t.Errorf("errors of z.yaml = %v, want one naming late/x.yaml", errs)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		check(t, sqlstoretest.OpenSQLite(t))
	}
	check(t, sqlstoretest.OpenPostgres(t))
}

// TestGlobOverUnreadableTreeRemovesNothing: when a tree a glob walks cannot
// be read (an object missing from the repository), the sync fails and the
// catalog keeps what it had. Before, the walk skipped the tree as if it
// were empty and the full sync removed the services it held.
func TestGlobOverUnreadableTreeRemovesNothing(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml":            "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./services/*/catalog-info.yaml]\n",
			"services/a/catalog-info.yaml": service("a", "team-a"),
			"services/b/catalog-info.yaml": service("b", "team-b"),
		})
		src := ingest.Source{Name: "broken", Repo: repo}
		mustSync(t, ingest.New(st, ingest.Options{}), src)
		commitMissingTree(t, repo, "services", "b")
		if _, err := ingest.New(st, ingest.Options{}).Sync(context.Background(), src); err == nil || !strings.Contains(err.Error(), "glob") {
			t.Errorf("Sync over a missing tree: err = %v, want the glob's error", err)
		}
		for _, ref := range []string{"component:a", "component:b"} {
			entity(t, st, ref)
		}
	})
}

// commitMissingTree commits, on main, the head's tree with directory
// dir/name pointing at a tree object the repository does not hold.
func commitMissingTree(t *testing.T, repo, dir, name string) {
	t.Helper()
	r, err := git.PlainOpen(repo)
	if err != nil {
		t.Fatal(err)
	}
	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	parent, err := r.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	root, err := parent.Tree()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := root.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	swap := func(entries []object.TreeEntry, name string, h plumbing.Hash) []object.TreeEntry {
		out := append([]object.TreeEntry(nil), entries...)
		for i := range out {
			if out[i].Name == name {
				out[i].Hash, out[i].Mode = h, filemode.Dir
				return out
			}
		}
		t.Fatalf("no entry %s", name)
		return nil
	}
	missing := plumbing.NewHash(strings.Repeat("ab", 20))
	subHash := putObject(t, r, &object.Tree{Entries: swap(sub.Entries, name, missing)})
	rootHash := putObject(t, r, &object.Tree{Entries: swap(root.Entries, dir, subHash)})
	c := putObject(t, r, &object.Commit{TreeHash: rootHash, ParentHashes: []plumbing.Hash{parent.Hash},
		Author: parent.Author, Committer: parent.Committer, Message: "lose a tree"})
	if err := r.Storer.SetReference(plumbing.NewHashReference(head.Name(), c)); err != nil {
		t.Fatal(err)
	}
}

// putObject stores v (a tree or commit) in r and returns its hash.
func putObject(t *testing.T, r *git.Repository, v interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	t.Helper()
	o := r.Storer.NewEncodedObject()
	if err := v.Encode(o); err != nil {
		t.Fatal(err)
	}
	h, err := r.Storer.SetEncodedObject(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
