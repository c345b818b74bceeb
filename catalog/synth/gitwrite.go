package synth

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Change is one file edit of a commit made by Commit: Data replaces the
// file's content, a nil Data deletes it. Symlink makes the file a symbolic
// link whose target is Data (for tests of links out of the repository).
type Change struct {
	Data    []byte
	Symlink bool
}

// Write returns a Change setting a file's content.
func Write(data string) Change { return Change{Data: []byte(data)} }

// Delete returns a Change removing a file.
func Delete() Change { return Change{} }

// commitTime is fixed so that generated repositories are byte-for-byte
// deterministic for a seed; each later commit adds a second.
var commitTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Init creates an empty bare repository at dir, with HEAD on main.
func Init(dir string) (*git.Repository, error) {
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		return nil, fmt.Errorf("synth init %s: %w", dir, err)
	}
	return r, nil
}

// Commit records changes (slash-separated paths relative to the repository
// root) as a new commit on top of HEAD's branch of the repository at dir,
// which may be bare or not (the work tree is left alone), and returns the
// new commit's hash. Only the trees along changed paths are rewritten.
func Commit(dir, message string, changes map[string]Change) (string, error) {
	r, err := git.PlainOpen(dir)
	if err != nil {
		return "", fmt.Errorf("synth commit %s: %w", dir, err)
	}
	h, err := commitTo(r, r.Storer, message, changes)
	if err != nil {
		return "", fmt.Errorf("synth commit %s: %w", dir, err)
	}
	return h.String(), nil
}

// commitTo writes the objects of a commit into w (r's own storer, or a
// memory storer later packed into r) and moves HEAD's branch to it.
func commitTo(r *git.Repository, w storer.EncodedObjectStorer, message string, changes map[string]Change) (plumbing.Hash, error) {
	head, err := r.Storer.Reference(plumbing.HEAD)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	branch := head.Target()
	var parents []plumbing.Hash
	var tree *object.Tree
	when := commitTime
	if ref, err := r.Storer.Reference(branch); err == nil {
		c, err := r.CommitObject(ref.Hash())
		if err != nil {
			return plumbing.ZeroHash, err
		}
		parents = []plumbing.Hash{c.Hash}
		when = c.Committer.When.Add(time.Second)
		if tree, err = c.Tree(); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	byPath := make(map[string]Change, len(changes))
	for p, c := range changes {
		p = strings.Trim(path.Clean(p), "/")
		if p == "" || p == "." || strings.HasPrefix(p, "../") {
			return plumbing.ZeroHash, fmt.Errorf("bad path %q", p)
		}
		byPath[p] = c
	}
	root, err := applyTree(r.Storer, w, tree, byPath)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if root.IsZero() {
		root, err = writeObject(w, &object.Tree{})
		if err != nil {
			return plumbing.ZeroHash, err
		}
	}
	sig := object.Signature{Name: "synth", Email: "synth@example.invalid", When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: root, ParentHashes: parents}
	h, err := writeObject(w, c)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference(branch, h)); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}

// applyTree returns the hash of tree with changes applied (paths relative
// to tree); ZeroHash means the result is empty and should be dropped.
func applyTree(read storer.EncodedObjectStorer, w storer.EncodedObjectStorer, tree *object.Tree, changes map[string]Change) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if tree != nil {
		for _, e := range tree.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string]map[string]Change{}
	for p, c := range changes {
		dir, rest, nested := strings.Cut(p, "/")
		if !nested {
			if c.Data == nil {
				delete(entries, dir)
				continue
			}
			h, err := writeBlob(w, c.Data)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			mode := filemode.Regular
			if c.Symlink {
				mode = filemode.Symlink
			}
			entries[dir] = object.TreeEntry{Name: dir, Mode: mode, Hash: h}
			continue
		}
		if sub[dir] == nil {
			sub[dir] = map[string]Change{}
		}
		sub[dir][rest] = c
	}
	for dir, ch := range sub {
		var child *object.Tree
		if e, ok := entries[dir]; ok && e.Mode == filemode.Dir {
			t, err := treeFrom(read, w, e.Hash)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			child = t
		}
		h, err := applyTree(read, w, child, ch)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h.IsZero() {
			delete(entries, dir)
			continue
		}
		entries[dir] = object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	t := &object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	// Git orders tree entries by name, a directory compared as if its name
	// ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(t.Entries, func(i, j int) bool { return key(t.Entries[i]) < key(t.Entries[j]) })
	return writeObject(w, t)
}

// treeFrom reads a tree from the repository or, for trees written earlier
// in the same generation, from the write storer.
func treeFrom(read, w storer.EncodedObjectStorer, h plumbing.Hash) (*object.Tree, error) {
	if t, err := object.GetTree(read, h); err == nil {
		return t, nil
	}
	return object.GetTree(w, h)
}

func writeBlob(w storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	o := w.NewEncodedObject()
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(data)))
	wr, err := o.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := wr.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := wr.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.SetEncodedObject(o)
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func writeObject(w storer.EncodedObjectStorer, v encoder) (plumbing.Hash, error) {
	o := w.NewEncodedObject()
	if err := v.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.SetEncodedObject(o)
}

// commitPacked makes the first commit of a large repository: objects are
// built in memory and written as one packfile, which readers open much
// faster than tens of thousands of loose objects.
func commitPacked(r *git.Repository, message string, changes map[string]Change) (plumbing.Hash, error) {
	mem := memory.NewStorage()
	h, err := commitTo(r, mem, message, changes)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	pw, ok := r.Storer.(storer.PackfileWriter)
	if !ok {
		return plumbing.ZeroHash, fmt.Errorf("storage cannot write packfiles")
	}
	hashes := make([]plumbing.Hash, 0, len(mem.Objects))
	for oh := range mem.Objects {
		hashes = append(hashes, oh)
	}
	// Deterministic object order, so the pack is the same for a seed.
	sort.Slice(hashes, func(i, j int) bool { return bytes.Compare(hashes[i][:], hashes[j][:]) < 0 })
	wc, err := pw.PackfileWriter()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := packfile.NewEncoder(wc, mem, false).Encode(hashes, 0); err != nil {
		wc.Close()
		return plumbing.ZeroHash, err
	}
	if err := wc.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}

// ReadFile returns the content of path at the HEAD commit of the
// repository at dir.
func ReadFile(dir, p string) ([]byte, error) {
	r, err := git.PlainOpen(dir)
	if err != nil {
		return nil, err
	}
	ref, err := r.Head()
	if err != nil {
		return nil, err
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		return nil, err
	}
	f, err := c.File(p)
	if err != nil {
		return nil, fmt.Errorf("synth read %s: %w", p, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}
