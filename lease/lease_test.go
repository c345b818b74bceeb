package lease

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestKeep(t *testing.T) {
	errDB := errors.New("database down")
	tests := []struct {
		name     string
		results  []error // nil: renewed; errNotHeld: false; else the error
		tolerate bool
		wantLost bool
		wantErr  error
	}{
		{"renewed until ctx ends", []error{nil, nil, nil}, false, false, nil},
		{"not held", []error{nil, errNotHeld}, false, true, nil},
		{"error is lost", []error{errDB}, false, true, errDB},
		{"error tolerated, then not held", []error{errDB, errDB, errNotHeld}, true, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			renew := func(context.Context) (bool, error) {
				if calls == len(tt.results) {
					cancel()
					return true, nil
				}
				r := tt.results[calls]
				calls++
				if r == errNotHeld {
					return false, nil
				}
				return r == nil, r
			}
			var tolerate func(error) bool
			if tt.tolerate {
				tolerate = func(error) bool { return true }
			}
			err := Keep(ctx, time.Millisecond, renew, tolerate)
			if got := errors.Is(err, ErrLost); got != tt.wantLost {
				t.Errorf("Keep(%q) = %v, want lost %v", tt.name, err, tt.wantLost)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Keep(%q) = %v, want it to wrap %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

var errNotHeld = errors.New("not held")
