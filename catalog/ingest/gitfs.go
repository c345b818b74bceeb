package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// errSymlink marks a path that is a symbolic link: the catalog never
// follows links, so a link cannot lead out of the repository.
var errSymlink = errors.New("is a symbolic link (links are not followed)")

// snapshot reads one commit's files straight from the object store, with
// no checkout. It is safe for concurrent use: go-git's object storage and
// tree caches are not, so every read holds mu.
type snapshot struct {
	repo   *git.Repository
	commit *object.Commit

	mu    sync.Mutex                             // guards dirs, index and object reads
	dirs  map[string]*object.Tree                // directory path ("" for root) -> tree
	index map[string]map[string]object.TreeEntry // directory path -> entries by name
}

func newSnapshot(r *git.Repository, c *object.Commit) (*snapshot, error) {
	root, err := r.TreeObject(c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("commit %s: tree: %w", c.Hash, err)
	}
	return &snapshot{repo: r, commit: c, dirs: map[string]*object.Tree{"": root}, index: map[string]map[string]object.TreeEntry{}}, nil
}

// entry returns the entry for file path p.
func (s *snapshot) entry(p string) (object.TreeEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entryLocked(p)
}

func (s *snapshot) entryLocked(p string) (object.TreeEntry, error) {
	if p == "" || p == "." {
		return object.TreeEntry{Mode: filemode.Dir}, nil
	}
	parent, base := path.Split(p)
	t, err := s.dirLocked(strings.TrimSuffix(parent, "/"))
	if err != nil {
		return object.TreeEntry{}, err
	}
	dir := strings.TrimSuffix(parent, "/")
	idx := s.index[dir]
	if idx == nil {
		// Indexed once per directory: a glob over a directory of n
		// entries looks each of them up.
		idx = make(map[string]object.TreeEntry, len(t.Entries))
		for _, e := range t.Entries {
			idx[e.Name] = e
		}
		s.index[dir] = idx
	}
	if e, ok := idx[base]; ok {
		return e, nil
	}
	return object.TreeEntry{}, fs.ErrNotExist
}

// dirLocked returns the tree of directory p ("" for the root); mu held.
func (s *snapshot) dirLocked(p string) (*object.Tree, error) {
	if t, ok := s.dirs[p]; ok {
		if t == nil {
			return nil, fs.ErrNotExist
		}
		return t, nil
	}
	e, err := s.entryLocked(p)
	if err == nil && e.Mode != filemode.Dir {
		err = fs.ErrNotExist
	}
	var t *object.Tree
	if err == nil {
		t, err = s.repo.TreeObject(e.Hash)
	}
	if errors.Is(err, fs.ErrNotExist) {
		s.dirs[p] = nil
	} else if err == nil {
		s.dirs[p] = t
	}
	return t, err
}

// readFile returns the content of file p, at most max bytes (0: no limit).
// A directory, a symbolic link or a submodule is an error.
func (s *snapshot) readFile(p string, max int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.entryLocked(p)
	if err != nil {
		return nil, err
	}
	switch e.Mode {
	case filemode.Symlink:
		return nil, errSymlink
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
	default:
		return nil, fmt.Errorf("not a regular file")
	}
	return s.blobLocked(e.Hash, max)
}

func (s *snapshot) blobLocked(h plumbing.Hash, max int64) ([]byte, error) {
	b, err := s.repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	if max > 0 && b.Size > max {
		return nil, &tooLargeError{size: b.Size, limit: max}
	}
	r, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, b.Size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// errTooLarge marks a file over a size limit; the error is a
// *tooLargeError.
var errTooLarge = errors.New("file too large")

// tooLargeError is a file over a size limit, known from its object header.
type tooLargeError struct{ size, limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%v (%d bytes, limit %d)", errTooLarge, e.size, e.limit)
}

func (e *tooLargeError) Is(target error) bool { return target == errTooLarge }

// fsys returns the snapshot as an fs.FS for doublestar's globbing.
// Symbolic links are reported as such and never followed.
func (s *snapshot) fsys() fs.FS { return snapFS{s} }

type snapFS struct{ s *snapshot }

func (f snapFS) Open(name string) (fs.File, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	return &snapFile{fs: f, name: name, info: info}, nil
}

func (f snapFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		name = ""
	}
	e, err := f.s.entry(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if name == "" {
		e.Name = "."
	}
	return entryInfo{e}, nil
}

func (f snapFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		name = ""
	}
	f.s.mu.Lock()
	t, err := f.s.dirLocked(name)
	f.s.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(t.Entries))
	for i, e := range t.Entries {
		out[i] = entryInfo{e}
	}
	return out, nil
}

// maxSourceFileBytes bounds one file read through the FS; the template
// runner, the reader of skeletons through SourceFS, bounds a whole
// skeleton to 64 MiB.
const maxSourceFileBytes = 64 << 20

// ReadFile implements fs.ReadFileFS (which fs.Sub passes on): SourceFS
// hands this FS to the template runner, which reads skeleton files
// through it.
func (f snapFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	b, err := f.s.readFile(name, maxSourceFileBytes)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

type snapFile struct {
	fs   snapFS
	name string
	info fs.FileInfo
	data *bytes.Reader // the content, read on the first Read
}

func (f *snapFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *snapFile) Close() error               { return nil }

// Read reads the file's blob; a directory cannot be read.
func (f *snapFile) Read(p []byte) (int, error) {
	if f.data == nil {
		if f.info.IsDir() {
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.New("is a directory")}
		}
		b, err := f.fs.ReadFile(f.name)
		if err != nil {
			return 0, err
		}
		f.data = bytes.NewReader(b)
	}
	return f.data.Read(p)
}
func (f *snapFile) ReadDir(n int) ([]fs.DirEntry, error) {
	return f.fs.ReadDir(f.name)
}

// entryInfo is a tree entry as fs.FileInfo and fs.DirEntry.
type entryInfo struct{ e object.TreeEntry }

func (i entryInfo) Name() string { return i.e.Name }
func (i entryInfo) Size() int64  { return 0 }
func (i entryInfo) Mode() fs.FileMode {
	switch i.e.Mode {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Symlink:
		return fs.ModeSymlink | 0o444
	case filemode.Submodule:
		return fs.ModeIrregular
	}
	return 0o444
}
func (i entryInfo) ModTime() time.Time         { return time.Time{} }
func (i entryInfo) IsDir() bool                { return i.e.Mode == filemode.Dir }
func (i entryInfo) Sys() any                   { return nil }
func (i entryInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i entryInfo) Info() (fs.FileInfo, error) { return i, nil }
