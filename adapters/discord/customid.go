package discord

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Custom ids carry what an interaction needs to come back to the engine,
// within Discord's 100 characters (maxCustomID). Their first field says
// what they are:
//
//	a|<action>|<value>   a button: commands.Action ID and Value
//	s|<action>           a select menu; the values come with the interaction
//	k|<key>              a button or select whose ids did not fit, kept in the stash
//	o|<key>|<part>       "open the form": shows part <part> of a stashed form
//	m|<key>|<part>       the modal showing part <part> of a stashed form
//
// Everything in a custom id comes back from the client and is untrusted:
// the action only selects a handler, which checks what it is given.
const sep = "|"

// component is a decoded custom id.
type component struct {
	kind   byte // 'a', 's', 'o', 'm'
	action string
	value  string
	key    string
	part   int
}

// stash keeps what does not fit in a custom id: oversized action ids and
// open forms with what was typed so far. It lives in this process's
// memory, bounded in size and age, so with several replicas behind the
// HTTP endpoint a form must be finished on the replica that opened it,
// or it is reported expired (README: High availability). Safe for
// concurrent use.
type stash struct {
	mu      sync.Mutex
	now     func() time.Time
	max     int
	entries map[string]stashEntry // guarded by mu
	order   []string              // insertion order, guarded by mu
}

type stashEntry struct {
	data    []byte
	expires time.Time
}

func newStash(now func() time.Time, max int) *stash {
	return &stash{now: now, max: max, entries: map[string]stashEntry{}}
}

// put stores data under a new random key for ttl and returns the key.
func (s *stash) put(data []byte, ttl time.Duration) string {
	key := newKey()
	s.set(key, data, ttl)
	return key
}

// set stores data under key for ttl, replacing what was there.
func (s *stash) set(key string, data []byte, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if _, ok := s.entries[key]; !ok {
		s.order = append(s.order, key)
	}
	s.entries[key] = stashEntry{data: data, expires: now.Add(ttl)}
	// Evict the oldest entries, expired or not, past the bound.
	for len(s.entries) > s.max && len(s.order) > 0 {
		delete(s.entries, s.order[0])
		s.order = s.order[1:]
	}
	// Drop expired keys from the front so order stays bounded too.
	for len(s.order) > 0 {
		e, ok := s.entries[s.order[0]]
		if ok && e.expires.After(now) {
			break
		}
		delete(s.entries, s.order[0])
		s.order = s.order[1:]
	}
}

// get returns the data under key, or false when it is missing or expired.
func (s *stash) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok || !e.expires.After(s.now()) {
		return nil, false
	}
	return e.data, true
}

func newKey() string {
	var b [9]byte
	// crypto/rand.Read never returns an error (Go 1.24+).
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

type stashedAction struct {
	Kind   string `json:"k"`
	Action string `json:"a"`
	Value  string `json:"v,omitempty"`
}

// actionID returns the custom id of a button for action and value.
func (s *stash) actionID(action, value string) string {
	id := "a" + sep + action + sep + value
	if len(id) <= maxCustomID && !strings.Contains(action, sep) {
		return id
	}
	b, _ := json.Marshal(stashedAction{Kind: "a", Action: action, Value: value}) // plain strings always marshal
	return "k" + sep + s.put(b, formLifetime)
}

// selectID returns the custom id of a select menu for action.
func (s *stash) selectID(action string) string {
	id := "s" + sep + action
	if len(id) <= maxCustomID {
		return id
	}
	b, _ := json.Marshal(stashedAction{Kind: "s", Action: action}) // plain strings always marshal
	return "k" + sep + s.put(b, formLifetime)
}

// formID returns the custom id of kind 'o' or 'm' for part of a form.
func formID(kind byte, key string, part int) string {
	return string(kind) + sep + key + sep + strconv.Itoa(part)
}

// decode parses a custom id. ok is false for ids this adapter did not
// make, and for stashed ids that expired.
func (s *stash) decode(id string) (c component, ok bool) {
	if len(id) > maxCustomID || len(id) < 2 || id[1] != sep[0] {
		return c, false
	}
	c.kind = id[0]
	rest := id[2:]
	switch c.kind {
	case 'a':
		c.action, c.value, ok = strings.Cut(rest, sep)
		return c, ok && c.action != ""
	case 's':
		c.action = rest
		return c, rest != ""
	case 'k':
		b, found := s.get(rest)
		if !found {
			return c, false
		}
		var sa stashedAction
		if err := json.Unmarshal(b, &sa); err != nil || len(sa.Kind) != 1 {
			return c, false
		}
		return component{kind: sa.Kind[0], action: sa.Action, value: sa.Value}, true
	case 'o', 'm':
		key, p, found := strings.Cut(rest, sep)
		n, err := strconv.Atoi(p)
		if !found || err != nil || n < 0 || n > 100 || key == "" {
			return c, false
		}
		c.key, c.part = key, n
		return c, true
	}
	return c, false
}
