package synth_test

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/catalog/synth"
)

func TestGenerateDeterministic(t *testing.T) {
	opts := synth.Options{Entities: 500, Repos: 2, Seed: 7}
	a, stats, err := synth.GenerateStats(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("GenerateStats: %v", err)
	}
	b, _, err := synth.GenerateStats(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("GenerateStats: %v", err)
	}
	if got := stats.Total(); got < 480 || got > 520 {
		t.Errorf("Total() = %d, want about 500 (%v)", got, stats)
	}
	for i := range a {
		if ha, hb := head(t, a[i]), head(t, b[i]); ha != hb {
			t.Errorf("repo %d: HEAD %s and %s differ for the same seed", i, ha, hb)
		}
	}
	c, _, err := synth.GenerateStats(t.TempDir(), synth.Options{Entities: 500, Repos: 2, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	if head(t, a[0]) == head(t, c[0]) {
		t.Errorf("seeds 7 and 8 give the same commit")
	}
}

func TestChangeService(t *testing.T) {
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	before := head(t, repos[0])
	commit, path, err := synth.ChangeService(repos[0], 3, "team-1", " (changed)")
	if err != nil {
		t.Fatalf("ChangeService: %v", err)
	}
	if commit == before {
		t.Fatalf("ChangeService made no commit")
	}
	text, err := synth.ReadFile(repos[0], path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "owner: team-1\n") || !strings.Contains(string(text), "(changed)") {
		t.Errorf("ReadFile(%s) after change = %s", path, text)
	}
	r, err := git.PlainOpen(repos[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(mustHash(t, r))
	if err != nil {
		t.Fatal(err)
	}
	parent, err := c.Parent(0)
	if err != nil {
		t.Fatalf("Parent: %v", err)
	}
	pt, _ := parent.Tree()
	ct, _ := c.Tree()
	changes, err := object.DiffTree(pt, ct)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].To.Name != path {
		t.Errorf("DiffTree = %v, want one change of %s", changes, path)
	}
	if _, err := synth.Commit(repos[0], "delete", map[string]synth.Change{path: synth.Delete()}); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.ReadFile(repos[0], path); err == nil {
		t.Errorf("ReadFile(%s) after delete succeeded", path)
	}
}

func head(t *testing.T, dir string) string {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	return mustHash(t, r).String()
}

func mustHash(t *testing.T, r *git.Repository) plumbing.Hash {
	t.Helper()
	ref, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash()
}
