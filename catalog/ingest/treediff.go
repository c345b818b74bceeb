package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// diffTrees records in changed every file path that differs between the
// trees a and b (either may be plumbing.ZeroHash, for none), mapped to
// whether it exists in b. Subtrees with equal hashes are skipped unread, so
// a one-file change reads only the trees on its path (go-git's DiffTree
// loads every sibling directory). The trees on the path are compared in
// their raw encoding, both sides walked together in Git's order, with no
// entry decoded into a string or a map: at 250,000 entities the services
// directory of the bench's catalog holds over 100,000 entries, and decoding
// it twice with a map of each cost most of a one-file sync (issue 19).
func diffTrees(r *git.Repository, prefix string, a, b plumbing.Hash, changed map[string]bool) error {
	ea, err := readRawTree(r, a)
	if err != nil {
		return err
	}
	eb, err := readRawTree(r, b)
	if err != nil {
		return err
	}
	visit := func(x, y *rawEntry) error {
		if x != nil && y != nil && x.hash == y.hash && x.mode == y.mode {
			return nil
		}
		name := x
		if name == nil {
			name = y
		}
		p := prefix + string(name.name)
		var subA, subB plumbing.Hash
		if x != nil {
			if x.mode == filemode.Dir {
				subA = x.hash
			} else {
				changed[p] = false
			}
		}
		if y != nil {
			if y.mode == filemode.Dir {
				subB = y.hash
			} else {
				changed[p] = true
			}
		}
		if subA.IsZero() && subB.IsZero() {
			return nil
		}
		return diffTrees(r, p+"/", subA, subB, changed)
	}
	if !rawSorted(ea) || !rawSorted(eb) {
		return diffUnsorted(ea, eb, visit)
	}
	i, j := 0, 0
	for i < len(ea) || j < len(eb) {
		c := 1
		switch {
		case i == len(ea):
		case j == len(eb):
			c = -1
		default:
			c = rawCompare(&ea[i], &eb[j])
		}
		var err error
		switch {
		case c == 0:
			err = visit(&ea[i], &eb[j])
			i, j = i+1, j+1
		case c < 0:
			err = visit(&ea[i], nil)
			i++
		default:
			err = visit(nil, &eb[j])
			j++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// diffUnsorted pairs the entries of two trees by name when either is not
// in Git's order (hand-made or hostile: Git never writes one), the first
// entry of a name winning, as it does when the sync reads the tree
// (snapshot.indexIfUnsorted): the diff must see the entry that is read.
func diffUnsorted(ea, eb []rawEntry, visit func(x, y *rawEntry) error) error {
	byName := func(es []rawEntry) map[string]*rawEntry {
		m := make(map[string]*rawEntry, len(es))
		for i := len(es) - 1; i >= 0; i-- {
			m[string(es[i].name)] = &es[i]
		}
		return m
	}
	ma, mb := byName(ea), byName(eb)
	for name, x := range ma {
		if err := visit(x, mb[name]); err != nil {
			return err
		}
	}
	for name, y := range mb {
		if ma[name] == nil {
			if err := visit(nil, y); err != nil {
				return err
			}
		}
	}
	return nil
}

// rawEntry is one entry of a tree object, its name pointing into the
// object's bytes.
type rawEntry struct {
	name []byte
	mode filemode.FileMode
	hash plumbing.Hash
}

// readRawTree reads the entries of tree h, none for the zero hash.
func readRawTree(r *git.Repository, h plumbing.Hash) ([]rawEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	obj, err := r.Storer.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	defer rd.Close()
	data := make([]byte, 0, obj.Size())
	buf := bytes.NewBuffer(data)
	if _, err := io.Copy(buf, rd); err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	es, err := parseRawTree(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	return es, nil
}

// errBadTree marks a tree object that is not in Git's tree format.
var errBadTree = errors.New("malformed tree object")

// parseRawTree splits a tree object into its entries: each is an octal
// mode, a space, a name, a NUL and the hash of the entry's object.
func parseRawTree(data []byte) ([]rawEntry, error) {
	// An entry takes at least 2 + 1 + 1 + 1 + 20 bytes.
	out := make([]rawEntry, 0, len(data)/32)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return nil, errBadTree
		}
		var mode uint32
		for _, c := range data[:sp] {
			if c < '0' || c > '7' || mode > 0o7777777 {
				return nil, errBadTree
			}
			mode = mode<<3 | uint32(c-'0')
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul <= 0 || len(data) < nul+1+len(plumbing.ZeroHash) {
			return nil, errBadTree
		}
		e := rawEntry{name: data[:nul:nul], mode: filemode.FileMode(mode)}
		copy(e.hash[:], data[nul+1:])
		out = append(out, e)
		data = data[nul+1+len(plumbing.ZeroHash):]
	}
	return out, nil
}

// rawCompare compares two entries in Git's tree order: bytewise by name,
// a directory's name as if it ended in '/' (see gitCompare).
func rawCompare(a, b *rawEntry) int {
	n := min(len(a.name), len(b.name))
	if c := bytes.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	next := func(e *rawEntry) int {
		if len(e.name) > n {
			return int(e.name[n])
		}
		if e.mode == filemode.Dir {
			return '/'
		}
		return -1
	}
	return next(a) - next(b)
}

// rawSorted reports whether entries are in Git's order, each name once
// (as a file or as a directory, never both: a name twice is a hostile
// tree, which diffUnsorted reads as a decoded tree's lookup would).
func rawSorted(es []rawEntry) bool {
	for i := 1; i < len(es); i++ {
		if rawCompare(&es[i-1], &es[i]) >= 0 || bytes.Equal(es[i-1].name, es[i].name) {
			return false
		}
	}
	return true
}
