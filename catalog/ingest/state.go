package ingest

import (
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// state is what one sync of a source learned about it beyond the entities:
// which descriptor files discovery reached and how, so that the next sync
// can decide whether re-parsing only the changed files is correct.
type state struct {
	// Commit is the commit key stored in Source.Commit by that sync.
	Commit string
	// Files are the descriptor files of the source itself, by path.
	Files map[string]fileState
	// Patterns are the Location targets (exact paths and globs) within the
	// source: an added file matching one may now be reachable.
	Patterns []string
	// Foreign is set when discovery read files of other sources.
	Foreign bool
}

// fileState is what a sync knows about one descriptor file.
type fileState struct {
	// Type is the Location type the file was reached with.
	Type string
	// Location is set when the file declares a Location entity, or when it
	// failed to process (it may declare one): changing it needs discovery.
	Location bool
	// Explicit is set when a Location names the file exactly, so its
	// removal is an error on that Location's file.
	Explicit bool
	// Children are the files reached through the file's Locations; they
	// stay reachable while the file is broken.
	Children []string
	// Deps are files its placeholders read.
	Deps []string
	// Source and Path name a file of another source (reached by URL);
	// both are empty for the source's own files, keyed by path.
	Source, Path string
}

// states keeps the last state of each source in memory and, when a cache
// directory is configured, in files under it (so that one-shot
// `portalbot sync` runs are incremental too).
type states struct {
	dir string // "" for memory only

	mu  sync.Mutex        // guards mem
	mem map[string]*state // by source name
}

func (s *states) file(name string) string {
	sum := sha256.Sum256([]byte(name))
	return filepath.Join(s.dir, "state", safeName(name)+"-"+hex.EncodeToString(sum[:6])+".gob")
}

// load returns the state recorded for source name, or nil.
func (s *states) load(name string) *state {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.mem[name]; st != nil {
		return st
	}
	if s.dir == "" {
		return nil
	}
	f, err := os.Open(s.file(name))
	if err != nil {
		return nil
	}
	defer f.Close()
	var st state
	if err := gob.NewDecoder(f).Decode(&st); err != nil {
		return nil // a damaged file only costs a full sync
	}
	return &st
}

// save records st for source name.
func (s *states) save(name string, st *state) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem == nil {
		s.mem = map[string]*state{}
	}
	s.mem[name] = st
	if s.dir == "" {
		return nil
	}
	p := s.file(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".state-*")
	if err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := gob.NewEncoder(tmp).Encode(st); err != nil {
		tmp.Close()
		return fmt.Errorf("save sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	return nil
}

// forget drops the state of a source (after a failed apply).
func (s *states) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mem, name)
	if s.dir != "" {
		if err := os.Remove(s.file(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return // a stale file is checked against the stored commit anyway
		}
	}
}
