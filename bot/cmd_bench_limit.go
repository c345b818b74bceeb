package bot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"gopkg.in/yaml.v3"
)

// The sync's lower bound (issue 19 asks a full sync to come within 5x of
// the COPY floor). A sync cannot do less than read every descriptor
// through go-git, decode it with yaml.v3 and have Postgres write its rows;
// libraryCPU measures the first two alone on the generated catalog, and
// sqlstore.InsertFloor the third. With every core busy and nothing else to
// do, a sync could not finish sooner than
//
//	max(Postgres' part, (go-git + yaml.v3 + Postgres' part) / cores),
//
// as one transaction's writes run in one Postgres backend and every part
// competes for the machine's cores (Postgres runs on the same machine
// here). lowerBound computes it.

// libraryCPU returns the process CPU time go-git takes to read every
// descriptor blob (.yaml, .yml) of each repository's HEAD, and yaml.v3 to
// decode each into nodes, as catalog.ParseFile begins. Blobs are read and
// decoded a chunk at a time, so memory stays small; finding them (the tree
// walk) is not timed.
func libraryCPU(repos []string) (gitCPU, yamlCPU time.Duration, err error) {
	for _, dir := range repos {
		g, y, err := repoLibraryCPU(dir)
		if err != nil {
			return 0, 0, fmt.Errorf("library floor %s: %w", path.Base(dir), err)
		}
		gitCPU += g
		yamlCPU += y
	}
	return gitCPU, yamlCPU, nil
}

func repoLibraryCPU(dir string) (gitCPU, yamlCPU time.Duration, err error) {
	// Opened as ingest opens a bare repository: pack files kept open.
	st := filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	defer st.Close()
	r, err := git.Open(st, nil)
	if err != nil {
		return 0, 0, err
	}
	head, err := r.Head()
	if err != nil {
		return 0, 0, err
	}
	c, err := r.CommitObject(head.Hash())
	if err != nil {
		return 0, 0, err
	}
	blobs, err := descriptorBlobs(r, c.TreeHash)
	if err != nil {
		return 0, 0, err
	}
	const chunk = 1000
	data := make([][]byte, 0, chunk)
	for len(blobs) > 0 {
		n := min(chunk, len(blobs))
		data = data[:0]
		start := processCPU()
		for _, h := range blobs[:n] {
			b, err := readBlob(r, h)
			if err != nil {
				return 0, 0, err
			}
			data = append(data, b)
		}
		mid := processCPU()
		for _, b := range data {
			dec := yaml.NewDecoder(bytes.NewReader(b))
			for {
				var doc yaml.Node
				if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					return 0, 0, err
				}
			}
		}
		gitCPU += mid - start
		yamlCPU += processCPU() - mid
		blobs = blobs[n:]
	}
	return gitCPU, yamlCPU, nil
}

// descriptorBlobs lists the blobs of the .yaml and .yml files under tree.
func descriptorBlobs(r *git.Repository, tree plumbing.Hash) ([]plumbing.Hash, error) {
	t, err := r.TreeObject(tree)
	if err != nil {
		return nil, err
	}
	var out []plumbing.Hash
	for _, e := range t.Entries {
		switch {
		case e.Mode == filemode.Dir:
			sub, err := descriptorBlobs(r, e.Hash)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case e.Mode.IsFile() && (strings.HasSuffix(e.Name, ".yaml") || strings.HasSuffix(e.Name, ".yml")):
			out = append(out, e.Hash)
		}
	}
	return out, nil
}

func readBlob(r *git.Repository, h plumbing.Hash) ([]byte, error) {
	b, err := r.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// lowerBound is the least time a full sync could take on cores CPUs given
// its three unavoidable parts (see above).
func lowerBound(gitCPU, yamlCPU, insert time.Duration, cores int) time.Duration {
	return max(insert, (gitCPU+yamlCPU+insert)/time.Duration(max(cores, 1)))
}

// benchCores is the number of CPUs the sync and Postgres share.
func benchCores() int { return runtime.NumCPU() }
