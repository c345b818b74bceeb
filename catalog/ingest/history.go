package ingest

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/catalog"
)

// HistoryReader reads sources' commit histories for the activity drift
// rule: local repositories in place, remote ones from the bare clones a
// sync keeps in the cache directory. It never fetches: history is read up
// to the commit the catalog was synced from. What it read is kept in
// memory and in the cache directory (history/), so a later read, in this
// process or the next, only walks the commits added since (the incremental
// read). It is safe for concurrent use.
type HistoryReader struct {
	o *opener

	mu      sync.Mutex
	sources map[string]*history // by source name and repo; guarded by mu
}

// history is what was read of one source: commits newest first, from tip
// back to the window's start or the commit limit.
type history struct {
	mu      sync.Mutex // serializes reads of one source
	tip     string
	since   time.Time
	max     int
	commits []catalog.Commit
	// complete says the walk reached the root or the window's start (not
	// the limit), so an older since cannot be answered from it.
	complete bool
}

// NewHistoryReader returns a reader over cacheDir, the sync's cache
// directory (Options.CacheDir).
func NewHistoryReader(cacheDir string) *HistoryReader {
	return &HistoryReader{o: &opener{cacheDir: cacheDir, getenv: osGetenv}, sources: map[string]*history{}}
}

// Commits returns the non-merge commits reachable from src.Commit (the
// synced commit) whose committer time is after since, newest first, at
// most max, each with the paths it changed against its parent. A source
// never synced, or whose clone is not in the cache, is an error wrapping
// catalog.ErrNotFound.
func (h *HistoryReader) Commits(ctx context.Context, src catalog.Source, since time.Time, max int) ([]catalog.Commit, error) {
	if src.Commit == "" {
		return nil, fmt.Errorf("history %s: not synced: %w", src.Name, catalog.ErrNotFound)
	}
	key := src.Name + "\x00" + src.Repo
	h.mu.Lock()
	hs := h.sources[key]
	if hs == nil {
		hs = &history{}
		h.sources[key] = hs
	}
	h.mu.Unlock()
	hs.mu.Lock()
	defer hs.mu.Unlock()
	file := h.cacheFile(src)
	if hs.tip == "" && file != "" {
		// A new process (a report run from the command line, a restart)
		// starts from what the last one read.
		hs.load(file)
	}
	if hs.tip == src.Commit && hs.max >= max && (!hs.since.After(since) || hs.complete) {
		return window(hs.commits, since, max), nil
	}
	dir := src.Repo
	if !isLocal(src.Repo) {
		dir = h.o.dir(Source{Name: src.Name, Repo: src.Repo})
	}
	r, closer, err := openRepo(dir, true)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("history %s: no clone in the cache: %w", src.Name, catalog.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("history %s: open: %w", src.Name, err)
	}
	defer closer()
	// Reuse what was read when the old tip is an ancestor of the new one
	// and the window did not grow: only the new commits are walked.
	var stop map[string]bool
	if hs.tip != "" && !hs.since.After(since) && hs.max >= max {
		stop = map[string]bool{hs.tip: true}
	}
	fresh, end, err := walk(ctx, r, plumbing.NewHash(src.Commit), since, max, stop)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", src.Name, err)
	}
	complete := end != endMax
	if end == endStop {
		fresh = append(fresh, hs.commits...)
		complete = hs.complete
	}
	if len(fresh) > max {
		fresh, complete = fresh[:max], false
	}
	hs.tip, hs.since, hs.max, hs.commits, hs.complete = src.Commit, since, max, fresh, complete
	if file != "" {
		// A failed save costs only the next process a full read.
		_ = hs.save(file)
	}
	return window(fresh, since, max), nil
}

// historyVersion changes when the cache file's format does.
const historyVersion = 1

// historyFile is the cache file of one source's history.
type historyFile struct {
	Version  int
	Tip      string
	Since    time.Time
	Max      int
	Complete bool
	Commits  []catalog.Commit
}

// cacheFile is where src's history is kept between processes, "" without
// a cache directory.
func (h *HistoryReader) cacheFile(src catalog.Source) string {
	if h.o.cacheDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(src.Name + "\x00" + src.Repo))
	return filepath.Join(h.o.cacheDir, "history", safeName(src.Name)+"-"+hex.EncodeToString(sum[:6])+".gob.gz")
}

// load reads a cache file written by save; a missing, old or damaged file
// leaves hs empty, and the history is read from Git.
func (hs *history) load(file string) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return
	}
	var hf historyFile
	if err := gob.NewDecoder(zr).Decode(&hf); err != nil || hf.Version != historyVersion {
		return
	}
	hs.tip, hs.since, hs.max, hs.complete, hs.commits = hf.Tip, hf.Since, hf.Max, hf.Complete, hf.Commits
}

// save writes hs to file atomically (a temporary file renamed over it).
func (hs *history) save(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".history-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	zw := gzip.NewWriter(tmp)
	err = gob.NewEncoder(zw).Encode(historyFile{Version: historyVersion, Tip: hs.tip, Since: hs.since, Max: hs.max, Complete: hs.complete, Commits: hs.commits})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// window keeps the commits after since, at most max (commits are newest
// first).
func window(cs []catalog.Commit, since time.Time, max int) []catalog.Commit {
	n := 0
	for n < len(cs) && n < max && cs[n].At.After(since) {
		n++
	}
	return cs[:n:n]
}

// Why a walk ended.
const (
	endRoot  = iota // no more commits
	endSince        // a commit older than the window
	endMax          // the commit limit
	endStop         // a commit already read (the previous tip)
)

// walk reads commits from tip newest first (by committer time) until one
// is older than since, max are read, or a commit in stop is reached, and
// says which ended it.
func walk(ctx context.Context, r *git.Repository, tip plumbing.Hash, since time.Time, max int, stop map[string]bool) (out []catalog.Commit, end int, err error) {
	it, err := r.Log(&git.LogOptions{From: tip, Order: git.LogOrderCommitterTime})
	if err != nil {
		return nil, 0, fmt.Errorf("log %s: %w", tip, err)
	}
	defer it.Close()
	errStop := errors.New("stop")
	end = endRoot
	err = it.ForEach(func(c *object.Commit) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case stop[c.Hash.String()]:
			end = endStop
			return errStop
		case !c.Committer.When.After(since):
			end = endSince
			return errStop
		case len(out) == max:
			end = endMax
			return errStop
		}
		if c.NumParents() > 1 {
			return nil // a merge: its work is in the merged commits
		}
		paths, err := changedPaths(r, c)
		if err != nil {
			return err
		}
		out = append(out, catalog.Commit{Hash: c.Hash.String(), AuthorEmail: c.Author.Email, AuthorName: c.Author.Name, At: c.Author.When, Paths: paths})
		return nil
	})
	if err != nil && !errors.Is(err, errStop) && !errors.Is(err, io.EOF) {
		return nil, 0, err
	}
	return out, end, nil
}

// changedPaths diffs c's tree against its parent's (the empty tree for a
// root commit) with the sync's diffTrees, which reads only the trees on
// the changed paths: go-git's DiffTree decodes every child tree of each
// changed directory, which made 10,000 commits take a minute.
func changedPaths(r *git.Repository, c *object.Commit) ([]string, error) {
	var parent plumbing.Hash
	if c.NumParents() == 1 {
		p, err := r.CommitObject(c.ParentHashes[0])
		if err != nil {
			return nil, fmt.Errorf("parent of %s: %w", c.Hash, err)
		}
		parent = p.TreeHash
	}
	changed := map[string]bool{}
	if err := diffTrees(r, "", parent, c.TreeHash, changed); err != nil {
		return nil, fmt.Errorf("diff %s: %w", c.Hash, err)
	}
	paths := make([]string, 0, len(changed))
	for p := range changed {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths, nil
}
