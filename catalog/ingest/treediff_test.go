package ingest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TestDiffTreesMatchesFlatDiff: over random pairs of trees whose names
// probe Git's order ("a", "a.b", "a-b", "a0", a file and a directory of
// one name in turn), diffTrees finds exactly the paths a comparison of
// the two trees' flattened file lists finds, sorted trees or not.
func TestDiffTreesMatchesFlatDiff(t *testing.T) {
	r, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 19))
	names := []string{"a", "a.b", "a-b", "a0", "b", "foo.yaml", "foo", "z"}
	randomPath := func() string {
		parts := make([]string, 1+rng.IntN(3))
		for i := range parts {
			parts[i] = names[rng.IntN(len(names))]
		}
		return strings.Join(parts, "/")
	}
	for trial := range 300 {
		a := map[string]string{}
		for range 1 + rng.IntN(12) {
			addFile(a, randomPath(), fmt.Sprint(rng.IntN(3)))
		}
		b := maps.Clone(a)
		for range 1 + rng.IntN(4) {
			switch keys := slices.Sorted(maps.Keys(b)); rng.IntN(3) {
			case 0:
				if len(keys) > 0 {
					delete(b, keys[rng.IntN(len(keys))])
				}
			case 1:
				if len(keys) > 0 {
					b[keys[rng.IntN(len(keys))]] = fmt.Sprint(rng.IntN(5))
				}
			default:
				addFile(b, randomPath(), fmt.Sprint(rng.IntN(3)))
			}
		}
		unsorted := trial%5 == 4
		ha, hb := writeTree(t, r, a, unsorted), writeTree(t, r, b, false)
		got := map[string]bool{}
		if err := diffTrees(r, "", ha, hb, got); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for p, v := range a {
			if w, ok := b[p]; !ok || w != v {
				want[p] = ok
			}
		}
		for p := range b {
			if _, ok := a[p]; !ok {
				want[p] = true
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("trial %d (first tree unsorted: %v):\na = %v\nb = %v\ndiffTrees = %v\nwant        %v", trial, unsorted, a, b, got, want)
		}
	}
	// Against nothing, every file is new.
	files := map[string]string{"x/y": "1", "x.y": "2"}
	got := map[string]bool{}
	if err := diffTrees(r, "", plumbing.ZeroHash, writeTree(t, r, files, false), got); err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"x/y": true, "x.y": true}; !maps.Equal(got, want) {
		t.Errorf("diff from no tree = %v, want %v", got, want)
	}
}

// addFile adds a file at p unless a file or directory already claims a
// part of its path (a tree cannot hold both).
func addFile(files map[string]string, p, content string) {
	for q := range files {
		if strings.HasPrefix(q, p+"/") || strings.HasPrefix(p, q+"/") {
			return
		}
	}
	files[p] = content
}

// writeTree stores files as Git trees in r and returns the root's hash; with
// unsorted, each tree's entries are written in reverse order, as no Git
// would write them.
func writeTree(t *testing.T, r *git.Repository, files map[string]string, unsorted bool) plumbing.Hash {
	t.Helper()
	dirs := map[string]map[string]bool{"": {}}
	for p := range files {
		for d := path.Dir(p); ; d = path.Dir(d) {
			if d == "." {
				d = ""
			}
			if dirs[d] == nil {
				dirs[d] = map[string]bool{}
			}
			if d == "" {
				break
			}
		}
	}
	var write func(dir string) plumbing.Hash
	write = func(dir string) plumbing.Hash {
		var tree object.Tree
		prefix := dir
		if prefix != "" {
			prefix += "/"
		}
		seen := map[string]bool{}
		for p, content := range files {
			rest, ok := strings.CutPrefix(p, prefix)
			if !ok {
				continue
			}
			name, sub, isDir := strings.Cut(rest, "/")
			_ = sub
			if seen[name] {
				continue
			}
			seen[name] = true
			if isDir {
				tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: write(prefix + name)})
				continue
			}
			tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: storeObject(t, r, plumbing.BlobObject, []byte(content))})
		}
		sort.Slice(tree.Entries, func(i, j int) bool {
			e := tree.Entries[j]
			return gitCompare(tree.Entries[i], e.Name, e.Mode == filemode.Dir) < 0
		})
		if unsorted {
			// go-git refuses to encode such a tree: write its bytes.
			slices.Reverse(tree.Entries)
			return storeObject(t, r, plumbing.TreeObject, rawTreeBytes(tree.Entries))
		}
		obj := r.Storer.NewEncodedObject()
		if err := tree.Encode(obj); err != nil {
			t.Fatal(err)
		}
		h, err := r.Storer.SetEncodedObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	return write("")
}

// TestParseRawTreeRejectsMalformed: a truncated or garbled tree object is
// an error, never a panic or an entry made up.
func TestParseRawTreeRejectsMalformed(t *testing.T) {
	hash := strings.Repeat("\x01", 20)
	good := "100644 a\x00" + hash + "40000 d\x00" + hash
	es, err := parseRawTree([]byte(good))
	if err != nil || len(es) != 2 || string(es[1].name) != "d" || es[1].mode != filemode.Dir || es[0].mode != filemode.Regular {
		t.Fatalf("parseRawTree(good) = %+v, %v", es, err)
	}
	for _, bad := range []string{
		good[:len(good)-1],    // hash cut short
		"100644 a" + hash,     // no NUL
		"10x644 a\x00" + hash, // not octal
		" a\x00" + hash,       // no mode
		"100644 \x00" + hash,  // no name
		"100644",              // nothing after the mode
		strings.Repeat("7", 40) + " a\x00" + hash, // a mode that overflows
	} {
		if es, err := parseRawTree([]byte(bad)); !errors.Is(err, errBadTree) {
			t.Errorf("parseRawTree(%q) = %+v, %v; want errBadTree", bad, es, err)
		}
	}
}

// TestDiffTreesDuplicateNames: in a hostile tree that names one file twice,
// the sync reads the first entry (snapshot.find), so the diff must compare
// that one: a change hidden behind an unchanged second entry is a change.
func TestDiffTreesDuplicateNames(t *testing.T) {
	r, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	blob := func(content string) plumbing.Hash { return storeObject(t, r, plumbing.BlobObject, []byte(content)) }
	rawTree := func(entries ...plumbing.Hash) plumbing.Hash {
		es := make([]object.TreeEntry, len(entries))
		for i, h := range entries {
			es[i] = object.TreeEntry{Name: "catalog-info.yaml", Mode: filemode.Regular, Hash: h}
		}
		return storeObject(t, r, plumbing.TreeObject, rawTreeBytes(es))
	}
	one, two := blob("1"), blob("2")
	before, after := rawTree(one), rawTree(two, one)
	c, err := r.CommitObject(commitTree(t, r, after))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := newSnapshot(r, c)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := snap.entry("catalog-info.yaml"); err != nil || e.Hash != two {
		t.Fatalf("the sync reads %v, %v; want the first entry %v", e.Hash, err, two)
	}
	got := map[string]bool{}
	if err := diffTrees(r, "", before, after, got); err != nil {
		t.Fatal(err)
	}
	if !got["catalog-info.yaml"] {
		t.Errorf("diffTrees = %v: the file the sync reads changed", got)
	}
}

// commitTree stores a commit of tree in r and returns its hash.
func commitTree(t *testing.T, r *git.Repository, tree plumbing.Hash) plumbing.Hash {
	t.Helper()
	c := &object.Commit{TreeHash: tree, Message: "test"}
	obj := r.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := r.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSnapshotBoundsTrees: a snapshot keeps at most maxCachedDirs trees
// however many directories a sync walks, and reads every file right after
// its directory's tree was dropped, a hostile unsorted tree included, and
// the files of a sibling directory read after thousands of others (the
// root was once dropped then, and every later read failed).
func TestSnapshotBoundsTrees(t *testing.T) {
	r, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	n := maxCachedDirs + 100
	for i := range n {
		files[fmt.Sprintf("services/d%05d/catalog-info.yaml", i)] = fmt.Sprint(i)
	}
	files["systems/s.yaml"] = "s"
	root := writeTree(t, r, files, false)
	// Put a hostile directory first: its reversed entries are found
	// through an index, which must go and come back with the tree.
	hostile := writeTree(t, r, map[string]string{"a.yaml": "a", "b.yaml": "b"}, true)
	rootEntries, err := readRawTree(r, root)
	if err != nil {
		t.Fatal(err)
	}
	tree := object.Tree{Entries: []object.TreeEntry{{Name: "00", Mode: filemode.Dir, Hash: hostile}}}
	for _, e := range rootEntries {
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: string(e.name), Mode: e.mode, Hash: e.hash})
	}
	obj := r.Storer.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		t.Fatal(err)
	}
	root, err = r.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(commitTree(t, r, root))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := newSnapshot(r, c)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p, want string) {
		t.Helper()
		got, err := snap.readFile(p, 0)
		if err != nil || string(got) != want {
			t.Fatalf("readFile(%s) = %q, %v; want %q", p, got, err, want)
		}
	}
	for pass := range 2 {
		read("00/b.yaml", "b")
		for i := range n {
			read(fmt.Sprintf("services/d%05d/catalog-info.yaml", i), fmt.Sprint(i))
		}
		// The root is read only when services/ is, on the way to a
		// sibling: it must not have been dropped meanwhile.
		read("systems/s.yaml", "s")
		if got := snap.dirs.Len(); got > maxCachedDirs {
			t.Fatalf("pass %d: the snapshot keeps %d trees, want at most %d", pass, got, maxCachedDirs)
		}
		if len(snap.unsorted) != 0 {
			t.Errorf("pass %d: the hostile tree's index outlived its tree: %d indexes", pass, len(snap.unsorted))
		}
	}
	read("00/a.yaml", "a")
}

// storeObject stores data as an object of type typ in r.
func storeObject(t *testing.T, r *git.Repository, typ plumbing.ObjectType, data []byte) plumbing.Hash {
	t.Helper()
	obj := r.Storer.NewEncodedObject()
	obj.SetType(typ)
	w, _ := obj.Writer()
	_, _ = w.Write(data)
	_ = w.Close()
	h, err := r.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// rawTreeBytes encodes entries as a tree object in the order given, which
// go-git's encoder would refuse when it is not Git's.
func rawTreeBytes(entries []object.TreeEntry) []byte {
	var b []byte
	for _, e := range entries {
		b = fmt.Appendf(b, "%o %s\x00", uint32(e.Mode), e.Name)
		b = append(b, e.Hash[:]...)
	}
	return b
}
