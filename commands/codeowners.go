package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// codeOwnersCache keeps each source's parsed CODEOWNERS for the catalog
// generation it was read at: a source's file changes only with a sync,
// which changes the generation, so owner answers read and parse it once
// per sync, not per question.
type codeOwnersCache struct {
	mu sync.Mutex
	m  map[string]parsedCodeOwners // by source name; guarded by mu
}

type parsedCodeOwners struct {
	gen int64
	co  *catalog.CodeOwners // nil when the source has no CODEOWNERS
}

func newCodeOwnersCache() *codeOwnersCache {
	return &codeOwnersCache{m: map[string]parsedCodeOwners{}}
}

// get returns the parsed CODEOWNERS of the named source at generation
// gen, or nil when it has none, loading the source when needed.
func (c *codeOwnersCache) get(ctx context.Context, st catalog.Store, name string, gen int64) (*catalog.CodeOwners, error) {
	c.mu.Lock()
	p, ok := c.m[name]
	c.mu.Unlock()
	if ok && p.gen == gen {
		return p.co, nil
	}
	src, err := st.Source(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load source %s: %w", name, err)
	}
	var co *catalog.CodeOwners
	if strings.TrimSpace(src.CodeOwners) != "" {
		if co, err = catalog.ParseCodeOwners(strings.NewReader(src.CodeOwners)); err != nil {
			return nil, fmt.Errorf("codeowners of %s: %w", name, err)
		}
	}
	c.mu.Lock()
	c.m[name] = parsedCodeOwners{gen: gen, co: co}
	c.mu.Unlock()
	return co, nil
}

// codeOwnersField returns a field naming the CODEOWNERS owners of e's
// descriptor file when none of them is its catalog owner, and nil when
// they agree or there is no CODEOWNERS rule for the file.
func (h *handlers) codeOwnersField(ctx context.Context, s view.Snapshot, e *view.Entry, owner catalog.Ref, own *catalog.Entity) (*Field, error) {
	o := e.Summary().Origin
	if o.Source == "" || o.Path == "" {
		return nil, nil
	}
	co, err := h.owners.get(ctx, h.store, o.Source, s.Generation())
	if err != nil || co == nil {
		return nil, err
	}
	written := co.Owners(o.Path)
	if len(written) == 0 {
		return nil, nil
	}
	for _, w := range written {
		if codeOwnerIs(w, owner, own) {
			return nil, nil
		}
	}
	return &Field{Name: "CODEOWNERS", Value: strings.Join(written, " ") + " (differs from the catalog owner)"}, nil
}

// codeOwnerIs reports whether a CODEOWNERS owner as written ("@org/team",
// "@user", "user@example.com") is the catalog owner: a Group whose
// github.com/team-slug annotation or name is the team, a User whose
// github.com/user-login annotation or name is the user, or either whose
// profile email is the address.
func codeOwnerIs(w string, owner catalog.Ref, own *catalog.Entity) bool {
	w = strings.TrimSpace(w)
	if strings.Contains(w, "@") && !strings.HasPrefix(w, "@") {
		if own == nil {
			return false
		}
		_, email := profile(own)
		return email != "" && strings.EqualFold(email, w)
	}
	handle := strings.TrimPrefix(w, "@")
	_, team, isTeam := strings.Cut(handle, "/")
	if isTeam {
		if !strings.EqualFold(owner.Kind, catalog.KindGroup) {
			return false
		}
		if own != nil {
			if slug := own.Metadata.Annotations["github.com/team-slug"]; slug != "" {
				return strings.EqualFold(slug, handle) || strings.EqualFold(slug, team)
			}
		}
		return strings.EqualFold(owner.Name, team)
	}
	if !strings.EqualFold(owner.Kind, catalog.KindUser) {
		return false
	}
	if own != nil {
		if login := own.Metadata.Annotations["github.com/user-login"]; login != "" {
			return strings.EqualFold(login, handle)
		}
	}
	return strings.EqualFold(owner.Name, handle)
}
