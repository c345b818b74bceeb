package commands_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// readCountingStore counts the point reads of the entities it is asked
// about: Entity (the entity and both directions of its relations) and
// Entities of listed refs, with or without relations.
type readCountingStore struct {
	catalog.Store
	// cold, when set, answers the cache warm-up (Entities of a kind) with
	// nothing, so that every entity is read when an answer needs it.
	cold               bool
	mu                 sync.Mutex
	full, bare, byRefs map[string]int // by canonical ref; guarded by mu
}

func (s *readCountingStore) Entity(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	s.mu.Lock()
	s.full[ref.String()]++
	s.mu.Unlock()
	return s.Store.Entity(ctx, ref)
}

func (s *readCountingStore) Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	if s.cold && q.Kind != "" && len(q.Refs) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	for _, r := range q.Refs {
		if q.NoRelations {
			s.bare[r.String()]++
		} else {
			s.byRefs[r.String()]++
		}
	}
	s.mu.Unlock()
	return s.Store.Entities(ctx, q)
}

func (s *readCountingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.full, s.bare, s.byRefs = map[string]int{}, map[string]int{}, map[string]int{}
}

// TestOwnerReadsSubjectRow checks what the owner command reads of the
// entity asked about (issue 19): the row alone, once, for anything but a
// person, whose answer lists the teams its relations name; the same
// question again reads nothing; and the answers stay those of the entity
// read with its relations.
func TestOwnerReadsSubjectRow(t *testing.T) {
	sq := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, sq)
	want := map[string]string{}
	plain := newRouter(t, sq)
	questions := []string{"owner payments-api", "owner payments-rest", "owner orphan-job", "owner group:payments", "owner carol"}
	for _, q := range questions {
		want[q] = flat(ask(plain, q))
	}

	st := &readCountingStore{Store: sq}
	st.reset()
	r := newRouter(t, st)
	ask(r, "help") // builds the snapshot and warms the cache
	for _, tt := range []struct {
		in, subject string
		person      bool
	}{
		{"owner payments-api", "component:default/payments-api", false},
		{"owner payments-rest", "api:default/payments-rest", false},
		{"owner orphan-job", "component:default/orphan-job", false},
		{"owner group:payments", "group:default/payments", false},
		{"owner carol", "user:default/carol", true},
	} {
		for i := range 2 {
			st.reset()
			got := flat(ask(r, tt.in))
			if got != want[tt.in] {
				t.Errorf("%q #%d = %s\nwant (the answer of a router without the counting store) %s", tt.in, i+1, got, want[tt.in])
			}
			st.mu.Lock()
			full, bare := st.full[tt.subject]+st.byRefs[tt.subject], st.bare[tt.subject]
			st.mu.Unlock()
			wantBare := 0
			if i == 0 && !tt.person {
				// Groups and people are in the cache after the warm-up;
				// the rest is read once.
				if tt.subject != "group:default/payments" {
					wantBare = 1
				}
			}
			if full != 0 || bare != wantBare {
				b, _ := json.Marshal(st.full)
				t.Errorf("%q #%d read %s with relations %d times and without %d times; want 0 and %d (Entity calls: %s)", tt.in, i+1, tt.subject, full, bare, wantBare, b)
			}
		}
	}
}

// TestOwnerReadsWhatItShows checks what the owner command reads of the
// entities its answer names when none is in memory: the owner with its
// relations (the answer lists its members), the system without (the
// answer shows its domain, and a system's relations name every part of
// it), each once.
func TestOwnerReadsWhatItShows(t *testing.T) {
	sq := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, sq)
	want := flat(ask(newRouter(t, sq), "owner payments-api"))
	st := &readCountingStore{Store: sq, cold: true}
	st.reset()
	r := newRouter(t, st)
	if got := flat(ask(r, "owner payments-api")); got != want {
		t.Fatalf("owner payments-api = %s\nwant (the answer of a router without the counting store) %s", got, want)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, tt := range []struct {
		ref        string
		full, bare int
	}{
		{"component:default/payments-api", 0, 1},
		{"group:default/payments", 1, 0},
		{"system:default/payments", 0, 1},
	} {
		if full, bare := st.full[tt.ref]+st.byRefs[tt.ref], st.bare[tt.ref]; full != tt.full || bare != tt.bare {
			t.Errorf("owner payments-api read %s with relations %d times and without %d times; want %d and %d", tt.ref, full, bare, tt.full, tt.bare)
		}
	}
}
