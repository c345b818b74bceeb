package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hashicorp/golang-lru/v2/simplelru"
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

	mu   sync.Mutex   // guards dirs, unsorted and object reads
	root *object.Tree // the commit's tree, kept apart from dirs: every lookup may start from it
	// dirs holds the other trees read lately, by directory path, nil for
	// a path that is no directory. It is bounded
	// (maxCachedDirs): a catalog laid out a directory per service has as
	// many trees as files, and keeping all of them for the whole sync held
	// some 30 MB at 250,000 entities (issue 19). A directory being walked
	// stays in it, as each of its children's reads passes through it.
	dirs *simplelru.LRU[string, *object.Tree]
	// unsorted indexes the entries of the rare tree not in Git's order
	// (a hand-made or hostile object), which a binary search could miss.
	unsorted map[*object.Tree]map[string]int
}

func newSnapshot(r *git.Repository, c *object.Commit) (*snapshot, error) {
	root, err := r.TreeObject(c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("commit %s: tree: %w", c.Hash, err)
	}
	s := &snapshot{repo: r, commit: c, root: root}
	s.dirs, err = simplelru.NewLRU(maxCachedDirs, func(_ string, t *object.Tree) {
		if t != nil {
			delete(s.unsorted, t)
		}
	})
	if err != nil {
		return nil, err
	}
	s.indexIfUnsorted(root)
	return s, nil
}

// maxCachedDirs bounds the trees a snapshot keeps. Reading a tree again
// costs one object read, and discovery reads a directory's entries in a
// row, so a few thousand hold every directory being walked.
const maxCachedDirs = 4096

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
	if i, ok := s.find(t, base); ok {
		return t.Entries[i], nil
	}
	return object.TreeEntry{}, fs.ErrNotExist
}

// indexIfUnsorted indexes t's entries by name when they are not in Git's
// order (see find); called once per tree, as it is cached. mu held.
func (s *snapshot) indexIfUnsorted(t *object.Tree) {
	if gitSorted(t.Entries) {
		return
	}
	idx := make(map[string]int, len(t.Entries))
	for i := len(t.Entries) - 1; i >= 0; i-- { // the first of a duplicated name wins
		idx[t.Entries[i].Name] = i
	}
	if s.unsorted == nil {
		s.unsorted = map[*object.Tree]map[string]int{}
	}
	s.unsorted[t] = idx
}

// find returns the index of the entry called name in t. Git keeps a tree's
// entries sorted, a directory's name compared as if it ended in '/', so a
// binary search finds it without an index per directory: on 250,000
// entities such indexes held some 60 MB for the whole sync (issue 19).
// mu held.
func (s *snapshot) find(t *object.Tree, name string) (int, bool) {
	if idx, ok := s.unsorted[t]; ok {
		i, ok := idx[name]
		return i, ok
	}
	// A file sorts as name, a directory as name+"/": look for both.
	for _, dir := range []bool{false, true} {
		i := sort.Search(len(t.Entries), func(i int) bool { return gitCompare(t.Entries[i], name, dir) >= 0 })
		if i < len(t.Entries) && t.Entries[i].Name == name && (t.Entries[i].Mode == filemode.Dir) == dir {
			return i, true
		}
	}
	return 0, false
}

// gitCompare compares e with an entry called name (a directory when dir)
// in Git's tree order.
func gitCompare(e object.TreeEntry, name string, dir bool) int {
	a, b := e.Name, name
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	// One name is a prefix of the other: the next byte decides, '/' for a
	// directory that has ended, nothing for a file.
	next := func(s string, isDir bool) int {
		if len(s) > n {
			return int(s[n])
		}
		if isDir {
			return '/'
		}
		return -1
	}
	return next(a, e.Mode == filemode.Dir) - next(b, dir)
}

// gitSorted reports whether entries are in Git's order, each name once.
func gitSorted(entries []object.TreeEntry) bool {
	for i := 1; i < len(entries); i++ {
		if gitCompare(entries[i-1], entries[i].Name, entries[i].Mode == filemode.Dir) >= 0 {
			return false
		}
	}
	return true
}

// dirLocked returns the tree of directory p ("" for the root); mu held.
func (s *snapshot) dirLocked(p string) (*object.Tree, error) {
	if p == "" {
		return s.root, nil
	}
	if t, ok := s.dirs.Get(p); ok {
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
		s.dirs.Add(p, nil)
	} else if err == nil {
		s.indexIfUnsorted(t)
		s.dirs.Add(p, t)
	}
	return t, err
}

// treeEntry returns the tree entry behind info (an fs.FileInfo of snapFS).
func treeEntry(info fs.FileInfo) (object.TreeEntry, bool) {
	e, ok := info.Sys().(*object.TreeEntry)
	if !ok || e == nil {
		return object.TreeEntry{}, false
	}
	return *e, true
}

// readBlob returns the content of the file whose entry is e, at most max
// bytes (0: no limit), as readFile does for its path.
func (s *snapshot) readBlob(e object.TreeEntry, max int64) ([]byte, error) {
	switch e.Mode {
	case filemode.Symlink:
		return nil, errSymlink
	case filemode.Regular, filemode.Executable, filemode.Deprecated:
	default:
		return nil, fmt.Errorf("not a regular file")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blobLocked(e.Hash, max)
}

// readFile returns the content of file p, at most max bytes (0: no limit).
// A directory, a symbolic link or a submodule is an error.
func (s *snapshot) readFile(p string, max int64) ([]byte, error) {
	e, err := s.entry(p)
	if err != nil {
		return nil, err
	}
	return s.readBlob(e, max)
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
	return entryInfo{&e}, nil
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
	for i := range t.Entries {
		out[i] = entryInfo{&t.Entries[i]}
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

// entryInfo is a tree entry as fs.FileInfo and fs.DirEntry. It points at
// the entry in its cached tree: as an interface value it then costs no
// allocation, and a glob over a large tree no copy of every entry. Sys
// returns the *object.TreeEntry, whose hash lets a glob's match be read
// without walking the trees to it again (treeEntry).
type entryInfo struct{ e *object.TreeEntry }

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
func (i entryInfo) Sys() any                   { return i.e }
func (i entryInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i entryInfo) Info() (fs.FileInfo, error) { return i, nil }
