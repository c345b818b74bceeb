package ingest

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestFindInGitOrder: entries are found by binary search in Git's order,
// where a directory sorts as if its name ended in '/' (so the directory
// "foo" comes after the file "foo.yaml"), and a tree not in that order
// (hand-made or hostile) is still searched right, through an index.
func TestFindInGitOrder(t *testing.T) {
	sorted := &object.Tree{Entries: []object.TreeEntry{
		{Name: "a", Mode: filemode.Regular},
		{Name: "foo-bar", Mode: filemode.Regular},
		{Name: "foo.yaml", Mode: filemode.Regular},
		{Name: "foo", Mode: filemode.Dir},
		{Name: "foo0", Mode: filemode.Regular},
		{Name: "mod", Mode: filemode.Submodule},
		{Name: "z", Mode: filemode.Dir},
	}}
	unsorted := &object.Tree{Entries: []object.TreeEntry{
		{Name: "z", Mode: filemode.Regular},
		{Name: "b", Mode: filemode.Regular},
		{Name: "a", Mode: filemode.Dir},
	}}
	if !gitSorted(sorted.Entries) || gitSorted(unsorted.Entries) {
		t.Fatal("gitSorted misjudges the test trees")
	}
	s := &snapshot{}
	s.indexIfUnsorted(sorted)
	s.indexIfUnsorted(unsorted)
	for _, tree := range []*object.Tree{sorted, unsorted} {
		for i, e := range tree.Entries {
			if got, ok := s.find(tree, e.Name); !ok || got != i {
				t.Errorf("find(%q) = %d, %v; want %d, true", e.Name, got, ok, i)
			}
		}
		for _, missing := range []string{"", "fo", "foo/", "b.", "zz", "0"} {
			if tree == unsorted && missing == "b" {
				continue
			}
			if i, ok := s.find(tree, missing); ok {
				t.Errorf("find(%q) = %d, true; want not found", missing, i)
			}
		}
	}
}
