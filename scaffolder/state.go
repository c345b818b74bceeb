package scaffolder

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"
)

// Form state travels in Form.State, which Slack keeps as private_metadata:
// at most 3,000 characters (PLATFORM.md, Block Kit limits). Small states go
// inline as JSON; larger ones, and any holding Secret field values (which
// must not sit in a chat platform's view storage), stay in memory here and
// only their id travels. Memory state is per replica: Slack delivers a
// modal's submissions to the same Socket Mode connection's app only by
// chance, so a multi-replica deployment with large forms should pin
// interactivity to one replica. Entries expire after stateTTL.
const (
	maxInlineState = 2800
	stateTTL       = 30 * time.Minute
	maxStates      = 10000
)

// formState is where a multi-step form is.
type formState struct {
	Template string         `json:"t"`
	Step     int            `json:"s"`
	Values   map[string]any `json:"v,omitempty"`
	// Secrets are Secret field values; never inline.
	Secrets map[string]string `json:"-"`
	// Review is set on the review form shown after the last step: its
	// submission launches (or, with reviewEdit ticked, reopens the form).
	Review bool `json:"r,omitempty"`
	// ID is set for state kept in memory.
	ID string `json:"id,omitempty"`
}

// stateStore keeps large or secret-bearing states in memory.
type stateStore struct {
	mu sync.Mutex
	m  map[string]storedState // guarded by mu
}

type storedState struct {
	st      formState
	expires time.Time
}

func (s *stateStore) encode(st formState, now time.Time) (string, error) {
	if len(st.Secrets) == 0 {
		b, err := json.Marshal(st)
		if err != nil {
			return "", err
		}
		if len(b) <= maxInlineState {
			return string(b), nil
		}
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	key := hex.EncodeToString(id[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]storedState{}
	}
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxStates {
		return "", errors.New("too many forms in progress")
	}
	s.m[key] = storedState{st: st, expires: now.Add(stateTTL)}
	b, err := json.Marshal(formState{ID: key, Template: st.Template, Step: st.Step})
	return string(b), err
}

// errStateExpired means a form's state is gone or was never ours.
var errStateExpired = errors.New("form state expired")

func (s *stateStore) decode(raw string, now time.Time) (formState, error) {
	var st formState
	if err := json.NewDecoder(strings.NewReader(raw)).Decode(&st); err != nil || st.Template == "" {
		return formState{}, errStateExpired
	}
	if st.ID == "" {
		if st.Values == nil {
			st.Values = map[string]any{}
		}
		st.Values = normalize(st.Values).(map[string]any)
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[st.ID]
	if !ok || now.After(e.expires) || e.st.Template != st.Template {
		return formState{}, errStateExpired
	}
	return e.st, nil
}
