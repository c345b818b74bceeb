package ingest

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/portalbot/portalbot/catalog"
)

// SourceFS returns the files of the source and commit an entity was read
// from, straight from the Git object store (the scaffolder's built-in
// runner reads template skeletons through it). The source is looked up in
// the configured sources, then in the store's source table; a remote
// source must have been synced by this process's cache directory.
func (s *Syncer) SourceFS(ctx context.Context, origin catalog.Origin) (fs.FS, error) {
	src, ok := s.source(origin.Source)
	if !ok {
		st, err := s.store.Source(ctx, origin.Source)
		if err != nil {
			return nil, fmt.Errorf("source files %s: %w", origin.Source, err)
		}
		src = Source{Name: st.Name, Repo: st.Repo, Branch: st.Branch}
	}
	dir := src.Repo
	if !isLocal(src.Repo) {
		dir = s.git.dir(src)
	}
	// Pack files are not kept open: the returned FS has no Close.
	r, _, err := openRepo(dir, false)
	if err != nil {
		return nil, fmt.Errorf("source files %s: open %s: %w", origin.Source, redactURL(src.Repo), err)
	}
	var h plumbing.Hash
	if origin.Commit != "" {
		h = plumbing.NewHash(origin.Commit)
	} else if h, err = resolve(r, src.Branch); err != nil {
		return nil, fmt.Errorf("source files %s: %w", origin.Source, err)
	}
	c, err := r.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("source files %s: commit %s: %w", origin.Source, h, err)
	}
	snap, err := newSnapshot(r, c)
	if err != nil {
		return nil, err
	}
	return snap.fsys(), nil
}
