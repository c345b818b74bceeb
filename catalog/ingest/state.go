package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/portalbot/portalbot/catalog"
)

// state is what one sync of a source learned about it beyond the entities:
// which descriptor files discovery reached and how, so that the next sync
// can decide whether re-parsing only the changed files is correct, and what
// a file that breaks had reached.
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

// stateStore is implemented by stores that keep each source's sync state
// (sqlstore.Store does), so that every replica on the database, and every
// process after a restart, starts from the last sync whoever ran it.
type stateStore interface {
	// SyncState returns the state saved for source and the commit key it
	// describes; the error wraps catalog.ErrNotFound when there is none.
	SyncState(ctx context.Context, source string) (commit string, state []byte, err error)
	// SaveSyncState saves state for source at commit, unless commit is no
	// longer the source's stored commit.
	SaveSyncState(ctx context.Context, source, commit string, state []byte) error
}

// stateMagic starts every encoded state: a state written in another format
// fails to decode and costs one sync with full discovery.
const stateMagic = "portalbot-sync-state-1\n"

// states keeps the last state of each source in the store when it can,
// else in memory for the Syncer's lifetime. A cache directory is not used:
// a replica or a restarted process with another one would start from a
// state that is not the store's.
type states struct {
	store stateStore // nil: memory only

	mu  sync.Mutex        // guards mem
	mem map[string]*state // by source name; only when store is nil
}

// load returns the state recorded for source name at commit key, or nil
// when there is none. An error (the store failing) leaves the sync to run
// full discovery, which is correct without a state.
func (s *states) load(ctx context.Context, name, commit string) (*state, error) {
	if s.store == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if st := s.mem[name]; st != nil && st.Commit == commit {
			return st, nil
		}
		return nil, nil
	}
	c, data, err := s.store.SyncState(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) || err == nil && c != commit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load sync state: %w", err)
	}
	st, err := decodeState(data)
	if err != nil {
		return nil, fmt.Errorf("load sync state: %w", err)
	}
	if st.Commit != commit {
		return nil, nil
	}
	return st, nil
}

// save records st for source name.
func (s *states) save(ctx context.Context, name string, st *state) error {
	if s.store == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.mem == nil {
			s.mem = map[string]*state{}
		}
		s.mem[name] = st
		return nil
	}
	data, err := encodeState(st)
	if err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	return s.store.SaveSyncState(ctx, name, st.Commit, data)
}

// encodeState gzips st's gob: paths repeat a lot (every child is also a
// key), and 100,000 entities' state is a few MB before compression. Every
// sync saves it, a one-file change too, so it compresses at gzip's best
// speed: at the default level compressing cost as much as the gob.
func encodeState(st *state) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(stateMagic)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := gob.NewEncoder(zw).Encode(st); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeState(data []byte) (*state, error) {
	rest, ok := bytes.CutPrefix(data, []byte(stateMagic))
	if !ok {
		return nil, errors.New("unknown state format")
	}
	zr, err := gzip.NewReader(bytes.NewReader(rest))
	if err != nil {
		return nil, err
	}
	var st state
	if err := gob.NewDecoder(zr).Decode(&st); err != nil {
		return nil, err
	}
	// A trailing read checks the gzip checksum.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, err
	}
	return &st, nil
}
