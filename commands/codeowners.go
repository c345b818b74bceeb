package commands

import (
	"context"
	"sync"

	"github.com/portalbot/portalbot/catalog"
)

// codeOwnersCache keeps each source's parsed CODEOWNERS for the commit it
// was read at, so owner answers do not re-parse the file.
type codeOwnersCache struct {
	mu sync.Mutex
	m  map[string]any // by source name; guarded by mu
}

func newCodeOwnersCache() *codeOwnersCache { return &codeOwnersCache{m: map[string]any{}} }

// codeOwnersField returns a field naming the CODEOWNERS owners of e's
// descriptor when they differ from its catalog owner, and nil otherwise.
func (h *handlers) codeOwnersField(ctx context.Context, e *entry, owner catalog.Ref, own *catalog.Entity) (*Field, error) {
	// TODO: parse Source.CodeOwners with catalog.ParseCodeOwners once it lands.
	return nil, nil
}
