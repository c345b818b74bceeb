// Package lease keeps a lease that coordinates replicas alive while its
// holder works: the one renewal loop behind sync claims, report claims and
// the Discord gateway's leadership. It knows nothing of what the lease
// guards, nor of the store that grants it: the caller passes the renewal.
package lease

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrLost means a renewal reported that the holder no longer has the lease.
var ErrLost = errors.New("lease lost")

// Renew extends a lease; false means the holder lost it.
type Renew func(ctx context.Context) (bool, error)

// Keep calls renew every interval until ctx ends, which returns nil, or the
// lease is lost, which returns an error wrapping ErrLost. A renewal that
// fails with an error counts as lost unless tolerate, when not nil, returns
// true for it: the lease then lasts its ttl and the next renewal tries
// again (a gateway rides out a database blip; a sync, whose work another
// replica may take over, stops at once).
func Keep(ctx context.Context, interval time.Duration, renew Renew, tolerate func(error) bool) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ok, err := renew(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && tolerate != nil && tolerate(err):
		case err != nil:
			return fmt.Errorf("renew: %w: %w", ErrLost, err)
		case !ok:
			return fmt.Errorf("renew: %w", ErrLost)
		}
	}
}
