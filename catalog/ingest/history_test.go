package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
)

func TestHistoryReaderIncrementalAndCached(t *testing.T) {
	dir := newRepo(t, map[string]string{"svc/a/catalog-info.yaml": "x"})
	var head string
	for i := range 5 {
		head = commit(t, dir, map[string]string{fmt.Sprintf("svc/a/f%d.go", i): "package a", "svc/b/main.go": fmt.Sprint(i)})
	}
	ctx := context.Background()
	cache := t.TempDir()
	since := time.Unix(0, 0) // synth commits at a fixed, old time
	src := catalog.Source{Name: "acme/svc", Repo: dir, Commit: head}
	hr := ingest.NewHistoryReader(cache)
	cs, err := hr.Commits(ctx, src, since, 100)
	if err != nil || len(cs) != 6 {
		t.Fatalf("Commits = %d, %v; want the 6 commits", len(cs), err)
	}
	if cs[0].Hash != head || fmt.Sprint(cs[0].Paths) != "[svc/a/f4.go svc/b/main.go]" {
		t.Errorf("newest commit = %s %v, want %s changing svc/a/f4.go and svc/b/main.go", cs[0].Hash, cs[0].Paths, head)
	}
	if got, _ := hr.Commits(ctx, src, since, 3); len(got) != 3 || got[0].Hash != head {
		t.Errorf("Commits(max 3) = %d commits, want the newest 3", len(got))
	}

	// New commits: the same reader adds them to what it read.
	for i := range 3 {
		head = commit(t, dir, map[string]string{fmt.Sprintf("svc/c/g%d.go", i): "package c"})
	}
	src.Commit = head
	if cs, err = hr.Commits(ctx, src, since, 100); err != nil || len(cs) != 9 || cs[0].Hash != head {
		t.Fatalf("Commits after 3 more = %d, %v; want 9, newest first", len(cs), err)
	}

	// Another process (a new reader on the same cache directory) answers
	// from the cache file without reading the repository at all.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	got, err := ingest.NewHistoryReader(cache).Commits(ctx, src, since, 100)
	if err != nil || len(got) != 9 || got[8].Hash != cs[8].Hash {
		t.Errorf("Commits from the cache file = %d, %v; want the 9 commits", len(got), err)
	}
	// Without the cache, the missing clone is ErrNotFound.
	if _, err := ingest.NewHistoryReader(t.TempDir()).Commits(ctx, src, since, 100); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Commits without a clone = %v, want ErrNotFound", err)
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "history", "*.gob.gz")); len(m) != 1 {
		t.Errorf("cache files = %v, want one", m)
	}
}
