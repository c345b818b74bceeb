// Package demo holds the example catalog that `portalbot demo` loads: Acme
// Shop, a small organisation with teams, people, domains, systems,
// services, APIs, a database, Software Templates and some deliberate
// ownership drift. WriteRepo puts it into a local Git repository.
//
// It is data and the code that writes it: it imports nothing else of
// portalbot; demo loads it through the ordinary Git sync.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// files is the catalog, rooted at catalog/; "all:" keeps dot-files of the
// template skeletons.
//
//go:embed all:catalog
var files embed.FS

// FS returns the example catalog's files, rooted at the repository root.
func FS() fs.FS {
	sub, err := fs.Sub(files, "catalog")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// commitTime is fixed so the demo repository's commit is the same on every
// machine and run: a second `portalbot demo --dir` finds it already synced.
var commitTime = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// WriteRepo writes the example catalog into dir (created if needed) as a
// Git repository with one commit, and returns the commit hash. An existing
// repository in dir is replaced.
func WriteRepo(dir string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("demo repo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("demo repo: %w", err)
	}
	src := FS()
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("demo repo: write files: %w", err)
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return "", fmt.Errorf("demo repo: git init: %w", err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", fmt.Errorf("demo repo: %w", err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("demo repo: git add: %w", err)
	}
	sig := &object.Signature{Name: "Acme Shop", Email: "platform@acme-shop.example", When: commitTime}
	h, err := wt.Commit("Acme Shop catalog", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return "", fmt.Errorf("demo repo: git commit: %w", err)
	}
	return h.String(), nil
}
