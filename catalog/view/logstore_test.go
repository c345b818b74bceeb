package view

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/portalbot/portalbot/catalog"
)

// logStore is an in-memory catalog.Store and catalog.ChangeLog: the
// summaries of the catalog, the generation of each entity's last change
// (removals included) and its history, for the tests of patched
// snapshots. Only what the view reads is implemented.
type logStore struct {
	catalog.Store

	mu   sync.Mutex
	gen  int64
	sums map[string]catalog.Summary // by canonical ref
	// changed is the generation of each entity's last change; history
	// all of them, oldest first.
	changed map[string]int64
	history map[string][]int64
	refs    map[string]catalog.Ref
	// logFrom is the oldest generation Changes reaches back to.
	logFrom int64
	// changesErr and summariesOfErr, when set, are what Changes and
	// SummariesOf fail with.
	changesErr, summariesOfErr error

	summaries, summariesOf, changes, entity, entities int // calls; guarded by mu
}

func newLogStore(sums []catalog.Summary) *logStore {
	st := &logStore{gen: 1, sums: map[string]catalog.Summary{}, changed: map[string]int64{},
		history: map[string][]int64{}, refs: map[string]catalog.Ref{}}
	for _, sm := range sums {
		st.sums[sm.Ref.String()] = sm
	}
	return st
}

// set records sm as the summary of its entity, or with del its removal,
// in the sync under way (generation st.gen+1, see commit).
func (st *logStore) set(sm catalog.Summary, del bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.setLocked(sm, del)
}

func (st *logStore) setLocked(sm catalog.Summary, del bool) {
	k := sm.Ref.String()
	if del {
		delete(st.sums, k)
	} else {
		st.sums[k] = sm
	}
	st.touchLocked(sm.Ref)
}

// touchLocked records a change of ref that no summary shows (its
// relations).
func (st *logStore) touchLocked(ref catalog.Ref) {
	k := ref.String()
	st.refs[k] = ref
	if st.changed[k] != st.gen+1 {
		st.changed[k] = st.gen + 1
		st.history[k] = append(st.history[k], st.gen+1)
	}
}

// commit ends the sync under way: the generation moves on.
func (st *logStore) commit() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.gen++
}

func (st *logStore) Generation(context.Context) (int64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.gen, nil
}

func (st *logStore) sorted() []catalog.Summary {
	out := make([]catalog.Summary, 0, len(st.sums))
	for _, sm := range st.sums {
		out = append(out, sm)
	}
	sortSummaries(out)
	return out
}

func (st *logStore) Summaries(context.Context) ([]catalog.Summary, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.summaries++
	return st.sorted(), nil
}

func (st *logStore) Changes(_ context.Context, since int64) (catalog.Changes, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.changes++
	if st.changesErr != nil {
		return catalog.Changes{}, st.changesErr
	}
	if since < st.logFrom {
		return catalog.Changes{Generation: st.gen}, nil
	}
	var keys []string
	for k, g := range st.changed {
		if g > since && g <= st.gen {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	ch := catalog.Changes{Generation: st.gen, Complete: true}
	for _, k := range keys {
		ch.Refs = append(ch.Refs, st.refs[k])
	}
	return ch, nil
}

func (st *logStore) SummariesOf(_ context.Context, refs []catalog.Ref) ([]catalog.Summary, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.summariesOf++
	if st.summariesOfErr != nil {
		return nil, st.summariesOfErr
	}
	var out []catalog.Summary
	for _, r := range refs {
		if sm, ok := st.sums[r.String()]; ok {
			out = append(out, sm)
		}
	}
	sortSummaries(out)
	return out, nil
}

// Entity returns an entity made of the summary, its annotation "changed"
// the generation of its last change.
func (st *logStore) Entity(_ context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.entity++
	sm, ok := st.sums[ref.String()]
	if !ok {
		return nil, fmt.Errorf("entity %s: %w", ref, catalog.ErrNotFound)
	}
	return &catalog.Entity{Kind: sm.Ref.Kind, Metadata: catalog.Metadata{
		Name: sm.Ref.Name, Namespace: sm.Ref.Namespace, Title: sm.Title,
		Annotations: map[string]string{"changed": strconv.FormatInt(st.changed[ref.String()], 10)},
	}, Spec: map[string]any{"owner": sm.Owner}}, nil
}

// Entities answers the cache warm-up: nothing to warm.
func (st *logStore) Entities(context.Context, catalog.Query) ([]*catalog.Entity, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.entities++
	return nil, nil
}

func (st *logStore) calls() (summaries, summariesOf int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.summaries, st.summariesOf
}
