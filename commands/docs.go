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

// maxLinks bounds the metadata.links an answer lists.
const maxLinks = 8

func (h *handlers) docs(ctx context.Context, req *Request) (view.Snapshot, Reply, error) {
	s, ent, rep, err := h.subject(ctx, "docs", req)
	if err != nil {
		return s, rep, err
	}
	ref := ent.Ref()
	rep = Reply{Title: "Docs for " + describe(ent), MoreURL: h.entityURL(ref)}
	if ent.Metadata.Annotations[catalog.AnnotationTechDocsRef] != "" {
		rep.Links = append(rep.Links, Link{Text: "TechDocs", URL: h.docsURL(ref)})
	}
	for _, l := range ent.Metadata.Links {
		if len(rep.Links) >= maxLinks {
			break
		}
		u, ok := safeURL(l.URL)
		if !ok {
			continue
		}
		t := strings.TrimSpace(l.Title)
		if t == "" {
			t = u
		}
		rep.Links = append(rep.Links, Link{Text: truncate(t, 80), URL: u})
	}
	if strings.EqualFold(ref.Kind, catalog.KindAPI) {
		rep.Links = append(rep.Links, Link{Text: "API definition", URL: h.definitionURL(ref)})
		f, err := h.definitionFieldsCached(ctx, s, ent)
		if err != nil {
			return s, Reply{}, err
		}
		rep.Fields = append(rep.Fields, f...)
	}
	if u, ok := sourceURL(ent); ok {
		rep.Links = append(rep.Links, Link{Text: "Source", URL: u})
	}
	if len(rep.Links) == 0 || (len(rep.Links) == 1 && rep.Links[0].Text == "Source") {
		rep.Text = refLabel(ref) + " has no TechDocs (backstage.io/techdocs-ref) and no links in its descriptor" + originSuffix(ent.Origin) + "."
	} else if d := strings.TrimSpace(ent.Metadata.Description); d != "" {
		rep.Text = truncate(d, 300)
	}
	rep.Links = append(rep.Links, Link{Text: "Portal page", URL: h.entityURL(ref)})
	return s, withOrphanWarning(ent, rep), nil
}

// definitionFields summarise an API's stored definition: format, title
// and version, operation or channel count, servers.
func (h *handlers) definitionFields(ctx context.Context, ent *catalog.Entity) ([]Field, error) {
	def, err := h.store.Definition(ctx, ent.Ref())
	if errors.Is(err, catalog.ErrNotFound) {
		if remotes := ent.Spec["remotes"]; remotes != nil {
			return []Field{{Name: "Definition", Value: formatName(ent.SpecString("type")) + ", served remotely (spec.remotes)"}}, nil
		}
		return []Field{{Name: "Definition", Value: "none stored"}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load definition of %s: %w", ent.Ref(), err)
	}
	a := summarizeDefinition(ent.SpecString("type"), def)
	out := []Field{{Name: "Definition", Value: a.String()}}
	if len(a.Servers) > 0 {
		out = append(out, Field{Name: "Servers", Value: strings.Join(a.Servers, ", ")})
	}
	return out, nil
}

// maxCachedDefinitions bounds the definition summaries kept per catalog
// generation; each is a few short fields, never the definition itself.
const maxCachedDefinitions = 4096

// definitionCache keeps definitionFields answers for one catalog
// generation, so that docs for an API reads and parses its definition
// once per sync, and can answer while the database is unreachable.
type definitionCache struct {
	mu  sync.Mutex
	gen int64              // guarded by mu
	m   map[string][]Field // canonical ref -> fields; guarded by mu
}

// definitionFieldsCached is definitionFields through h.defs at the
// snapshot's generation.
func (h *handlers) definitionFieldsCached(ctx context.Context, s view.Snapshot, ent *catalog.Entity) ([]Field, error) {
	key, gen := ent.Ref().String(), s.Generation()
	c := h.defs
	c.mu.Lock()
	f, ok := c.m[key]
	if c.gen != gen {
		ok = false
	}
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	if h.view.Unreachable() {
		return nil, fmt.Errorf("load definition of %s: %w", key, catalog.ErrUnavailable)
	}
	f, err := h.definitionFields(ctx, ent)
	if err != nil {
		if errors.Is(err, catalog.ErrUnavailable) {
			h.view.MarkUnreachable()
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen < gen || c.m == nil || len(c.m) >= maxCachedDefinitions {
		c.gen, c.m = gen, map[string][]Field{}
	}
	if c.gen == gen {
		c.m[key] = f
	}
	return f, nil
}
