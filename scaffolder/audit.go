package scaffolder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"
)

// Audit records launches and de-duplicates them; the SQL store implements
// it over its launch table. RecordLaunch returns first=false when key was
// recorded before, and then the caller launches nothing.
type Audit interface {
	RecordLaunch(ctx context.Context, key, user, platform, template, valuesJSON string) (first bool, err error)
	FinishLaunch(ctx context.Context, key, taskID, status, detail string) error
}

// Launch statuses recorded with FinishLaunch.
const (
	statusStarted   = "started"
	statusCompleted = "completed"
	statusFailed    = "failed"
	statusCancelled = "cancelled"
)

// masked is what a secret value is recorded as.
const masked = "***"

// maskedValues returns values as JSON with secret fields replaced by masked.
func maskedValues(values map[string]any, fields []field) (string, error) {
	c := cloneMap(values)
	for i := range fields {
		if fields[i].Secret {
			if _, ok := lookup(c, fields[i].Path); ok {
				set(c, fields[i].Path, masked)
			}
		}
	}
	b, err := json.Marshal(c)
	return string(b), err
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if mm, ok := v.(map[string]any); ok {
			v = cloneMap(mm)
		}
		out[k] = v
	}
	return out
}

// duplicateWindow is how long the same user launching the same template
// with the same values counts as a double click rather than intent.
const duplicateWindow = 5 * time.Minute

// contentKey identifies a launch by who, what and with which values
// (secrets included, hashed), for the duplicate window.
func contentKey(u user, template string, values map[string]any, secrets map[string]string) string {
	h := sha256.New()
	vb, _ := json.Marshal(values) // map keys are sorted by encoding/json; a value that cannot encode was refused earlier
	sb, _ := json.Marshal(secrets)
	for _, part := range [][]byte{[]byte(u.Platform), []byte(u.ID), []byte(template), vb, sb} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return "v:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// recent remembers content keys for duplicateWindow.
type recent struct {
	mu sync.Mutex
	m  map[string]time.Time // guarded by mu
}

// claim reports whether key is new within the window, and records it.
func (r *recent) claim(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]time.Time{}
	}
	for k, t := range r.m {
		if now.Sub(t) > duplicateWindow {
			delete(r.m, k)
		}
	}
	if t, ok := r.m[key]; ok && now.Sub(t) <= duplicateWindow {
		return false
	}
	r.m[key] = now
	return true
}

// release forgets key, so a launch that failed can be retried at once.
func (r *recent) release(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, key)
}

// memoryAudit is an Audit kept in memory, for a store without a launch
// table. It de-duplicates within one process only and forgets on restart.
type memoryAudit struct {
	mu      sync.Mutex
	records map[string]*auditRecord // guarded by mu
	order   []string                // guarded by mu
}

// auditRecord is one launch as memoryAudit keeps it.
type auditRecord struct {
	Key, User, Platform, Template, Values string
	TaskID, Status, Detail                string
}

// RecordLaunch implements Audit.
func (a *memoryAudit) RecordLaunch(_ context.Context, key, user, platform, template, valuesJSON string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.records == nil {
		a.records = map[string]*auditRecord{}
	}
	if _, ok := a.records[key]; ok {
		return false, nil
	}
	a.records[key] = &auditRecord{Key: key, User: user, Platform: platform, Template: template, Values: valuesJSON, Status: statusStarted}
	a.order = append(a.order, key)
	return true, nil
}

// FinishLaunch implements Audit.
func (a *memoryAudit) FinishLaunch(_ context.Context, key, taskID, status, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.records[key]; ok {
		if taskID != "" {
			r.TaskID = taskID
		}
		r.Status, r.Detail = status, detail
	}
	return nil
}

// Records returns copies of the records in launch order.
func (a *memoryAudit) Records() []auditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]auditRecord, 0, len(a.order))
	for _, k := range a.order {
		out = append(out, *a.records[k])
	}
	return out
}
