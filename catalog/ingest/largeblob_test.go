package ingest_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// writeLooseBlob writes a loose blob of size bytes into the bare
// repository dir, streaming (the test itself never holds it), and returns
// its hash. It writes Git's loose format itself, in stored (uncompressed)
// zlib blocks, which Git reads like any other: compressing 100 MB took
// tens of seconds under -race.
func writeLooseBlob(t *testing.T, dir string, size int64) plumbing.Hash {
	t.Helper()
	tmp, err := os.CreateTemp(filepath.Join(dir, "objects"), "tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	zw, err := zlib.NewWriterLevel(tmp, zlib.NoCompression)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.New()
	w := io.MultiWriter(zw, sum)
	fmt.Fprintf(w, "blob %d\x00", size)
	chunk := bytes.Repeat([]byte("# padding padding padding padding\n"), 32<<10)
	for left := size; left > 0; {
		n := min(left, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	var h plumbing.Hash
	copy(h[:], sum.Sum(nil))
	hex := h.String()
	if err := os.MkdirAll(filepath.Join(dir, "objects", hex[:2]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "objects", hex[:2], hex[2:])); err != nil {
		t.Fatal(err)
	}
	return h
}

// commitTree records a commit on main whose root tree holds files (small
// contents) and the blobs named by hash in big.
func commitTree(t *testing.T, dir string, files map[string]string, big map[string]plumbing.Hash) {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tree object.Tree
	for name, data := range files {
		o := r.Storer.NewEncodedObject()
		o.SetType(plumbing.BlobObject)
		w, err := o.Writer()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, data); err != nil {
			t.Fatal(err)
		}
		w.Close()
		h, err := r.Storer.SetEncodedObject(o)
		if err != nil {
			t.Fatal(err)
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
	}
	for name, h := range big {
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
	}
	// A root tree of plain files: git orders entries by name.
	sort.Slice(tree.Entries, func(i, j int) bool { return tree.Entries[i].Name < tree.Entries[j].Name })
	sig := object.Signature{Name: "test", Email: "test@example.com", When: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &object.Commit{Author: sig, Committer: sig, Message: "large blob", TreeHash: putObject(t, r, &tree)}
	if err := r.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", putObject(t, r, c))); err != nil {
		t.Fatal(err)
	}
}

// allocated returns the bytes the process allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLargeLooseBlobRefusedFromHeader syncs a repository where a Location
// target and CODEOWNERS are 100 MB loose objects: both are refused from
// the size in the object header. go-git used to inflate a loose object
// whole (into a growing buffer: about 590 MB allocated per read, 1.2 GB
// per sync) just to learn its size. A sync of this three-file repository
// now allocates under 1 MiB; the bound leaves room for the stores and is
// far under any read of the blob.
func TestLargeLooseBlobRefusedFromHeader(t *testing.T) {
	const size = 100 << 20
	const bound = 4 << 20
	repo := filepath.Join(t.TempDir(), "repo")
	if _, err := synth.Init(repo); err != nil {
		t.Fatal(err)
	}
	big := writeLooseBlob(t, repo, size)
	commitTree(t, repo, map[string]string{
		"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./a.yaml, ./big.yaml]\n",
		"a.yaml":            componentA,
	}, map[string]plumbing.Hash{"big.yaml": big, "CODEOWNERS": big})

	stores(t, func(t *testing.T, st *sqlstore.Store) {
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "acme/big", Repo: repo}
		var res ingest.Result
		n := allocated(func() { res = mustSync(t, s, src) })
		t.Logf("sync allocated %d KiB", n>>10)
		if n > bound {
			t.Errorf("Sync allocated %d MiB with a %d MiB loose blob, want under %d MiB", n>>20, size>>20, bound>>20)
		}
		if errs := errorsOf(res, "big.yaml"); len(errs) != 1 || !strings.Contains(errs[0].Message, "104857600 bytes") {
			t.Errorf("Sync() errors for big.yaml = %v, want one saying it is too large, with its size", errs)
		}
		if len(res.Warnings) != 1 || res.Warnings[0].Path != "CODEOWNERS" {
			t.Errorf("Sync().Warnings = %v, want CODEOWNERS over the limit", res.Warnings)
		}
		e := entity(t, st, "component:default/a")

		// The template runner reads files through SourceFS, bounded too.
		fsys, err := s.SourceFS(context.Background(), e.Origin)
		if err != nil {
			t.Fatal(err)
		}
		var rerr error
		n = allocated(func() { _, rerr = fs.ReadFile(fsys, "big.yaml") })
		if rerr == nil || !strings.Contains(rerr.Error(), "too large") {
			t.Errorf("SourceFS ReadFile(big.yaml) = %v, want too large", rerr)
		}
		if n > bound {
			t.Errorf("SourceFS ReadFile(big.yaml) allocated %d MiB, want under %d MiB", n>>20, bound>>20)
		}
	})
}
