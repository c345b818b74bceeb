package bot

import (
	"maps"
	"sync"
	"time"
)

// maxConnError bounds the error text /readyz shows per connection.
const maxConnError = 200

// Connections records the state of each long-lived platform connection
// (Slack Socket Mode, the Discord gateway) for /readyz. Safe for
// concurrent use.
type Connections struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]ConnState // guarded by mu
}

// ConnState is one connection's last reported state.
type ConnState struct {
	State string    `json:"state"`
	Since time.Time `json:"since"`
	// Error is why the last attempt failed, when it did.
	Error string `json:"error,omitempty"`
	// NextRetry is when the next attempt is due, when one is.
	NextRetry *time.Time `json:"next_retry,omitempty"`
}

// NewConnections returns an empty registry.
func NewConnections() *Connections {
	return &Connections{now: time.Now, m: map[string]ConnState{}}
}

// Reporter returns the OnConnection callback of the connection called name.
func (c *Connections) Reporter(name string) func(state string, err error, retryIn time.Duration) {
	return func(state string, err error, retryIn time.Duration) {
		now := c.now()
		s := ConnState{State: state, Since: now}
		if err != nil {
			s.Error = err.Error()
			if r := []rune(s.Error); len(r) > maxConnError {
				s.Error = string(r[:maxConnError]) + "…"
			}
		}
		if retryIn > 0 {
			t := now.Add(retryIn)
			s.NextRetry = &t
		}
		c.mu.Lock()
		if old, ok := c.m[name]; ok && old.State == state && err == nil {
			s.Since = old.Since // a repeated report does not restart the clock
		}
		c.m[name] = s
		c.mu.Unlock()
	}
}

// Snapshot returns the states by connection name.
func (c *Connections) Snapshot() map[string]ConnState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}
