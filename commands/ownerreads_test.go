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
