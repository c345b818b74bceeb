package slack

import (
	"context"
	"sync"
	"time"
)

// MemoryDeduper is an in-process Deduper. It is right for one replica
// only; with several, use the SQL store, which all replicas share.
type MemoryDeduper struct {
	now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // key -> expiry; guarded by mu
}

// NewMemoryDeduper returns an empty MemoryDeduper; now nil means time.Now.
func NewMemoryDeduper(now func() time.Time) *MemoryDeduper {
	if now == nil {
		now = time.Now
	}
	return &MemoryDeduper{now: now, seen: map[string]time.Time{}}
}

// Once reports whether key was not seen within its ttl, and remembers it.
// It never fails.
func (d *MemoryDeduper) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if exp, ok := d.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(d.seen) > 10000 {
		for k, exp := range d.seen {
			if !now.Before(exp) {
				delete(d.seen, k)
			}
		}
	}
	d.seen[key] = now.Add(ttl)
	return true, nil
}
