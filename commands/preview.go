package commands

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// previewTimeout bounds a link preview, live on-call lookup included: an
// unfurl nobody waits for must not hold a worker.
const previewTimeout = 8 * time.Second

// Preview answers a link to an entity page of the portal pasted in chat
// (Slack unfurls, Discord embeds) with the entity's owner, who is on call
// and where its docs are. ok is false when link is not
// <portal>/catalog/<namespace>/<kind>/<name>[/…] under the configured
// portal URL, or names nothing in the catalog; nothing is logged then.
// Links are cheap to refuse, so adapters may offer every link they see.
func (r *Router) Preview(ctx context.Context, req *Request, link string) (rep Reply, ok bool) {
	if r.preview == nil {
		return Reply{}, false
	}
	defer func() {
		if p := recover(); p != nil {
			r.logger.ErrorContext(ctx, "preview panicked", "panic", p)
			rep, ok = Reply{}, false
		}
	}()
	return r.preview(ctx, req, link)
}

// parseEntityLink reads an entity page link under portal, Backstage's
// /catalog/:namespace/:kind/:name route (a tab after it, a query or a
// fragment are allowed). Scheme and host must match portal's, and the path
// must be under portal's path.
func parseEntityLink(portal, link string) (catalog.Ref, bool) {
	link = strings.TrimSpace(link)
	if len(link) > 2048 || !strings.HasPrefix(strings.ToLower(link), strings.ToLower(portal)+"/catalog/") {
		return catalog.Ref{}, false
	}
	p, err := url.Parse(portal)
	if err != nil {
		return catalog.Ref{}, false
	}
	u, err := url.Parse(link)
	if err != nil || !strings.EqualFold(u.Scheme, p.Scheme) || !strings.EqualFold(u.Host, p.Host) || u.User != nil {
		return catalog.Ref{}, false
	}
	rest, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimRight(p.EscapedPath(), "/")+"/catalog/")
	if !ok {
		return catalog.Ref{}, false
	}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 3 {
		return catalog.Ref{}, false
	}
	var seg [3]string
	for i := range seg {
		s, err := url.PathUnescape(parts[i])
		if err != nil || s == "" || strings.ContainsAny(s, ":/") {
			return catalog.Ref{}, false
		}
		seg[i] = s
	}
	return catalog.Ref{Namespace: seg[0], Kind: seg[1], Name: seg[2]}, true
}

// preview is Router.Preview for the catalog commands.
func (h *handlers) preview(ctx context.Context, req *Request, link string) (Reply, bool) {
	ref, ok := parseEntityLink(h.portal, link)
	if !ok {
		return Reply{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	s, e, _, err := h.resolve(ctx, "preview", ref.Kind+":"+ref.Namespace+"/"+ref.Name, nil)
	if err != nil {
		var ue *UserError
		if !errors.As(err, &ue) {
			h.logger.WarnContext(ctx, "preview failed", "entity_ref", ref.String(), "err", err)
		}
		return Reply{}, false
	}
	ent, err := h.entity(ctx, s, e)
	if err != nil {
		h.logger.WarnContext(ctx, "preview failed", "entity_ref", ref.String(), "err", err)
		return Reply{}, false
	}
	ref = ent.Ref()
	rep := Reply{
		Title:     describe(ent) + " (" + refLabel(ref) + ")",
		Text:      truncate(strings.TrimSpace(ent.Metadata.Description), 300),
		InChannel: true,
		MoreURL:   h.entityURL(ref),
	}
	var own *catalog.Entity
	if ownerRef, has := ent.Owner(); has {
		v := refLabel(ownerRef) + " (not in the catalog)"
		if s.Has(ownerRef) {
			rel, err := s.Load(ctx, []catalog.Ref{ownerRef})
			if err != nil {
				h.logger.WarnContext(ctx, "preview failed", "entity_ref", ref.String(), "err", err)
				return Reply{}, false
			}
			if own = rel[ownerRef.String()]; own != nil {
				v = displayName(own) + " (" + refLabel(ownerRef) + ")"
			}
		}
		rep.Fields = append(rep.Fields, Field{Name: "Owner", Value: v, URL: h.entityURL(ownerRef)})
	}
	// On call: the entity's own rotation, else its owner's, as oncall answers.
	from := ent
	if f, l := oncallInfo(ent); len(f) == 0 && len(l) == 0 && own != nil {
		from = own
	}
	if f, l := oncallInfo(from); len(f) > 0 || len(l) > 0 {
		// Why a lookup failed belongs in oncall's private answer, not in
		// an unfurl the whole channel sees.
		now, _ := h.liveOnCall(ctx, from.Metadata.Annotations)
		rep.Fields = append(rep.Fields, now...)
		if len(now) == 0 {
			v, u := "see the on-call page", h.entityURL(from.Ref())
			switch {
			case len(l) > 0:
				v, u = l[0].Text, l[0].URL
			case len(f) > 0 && !strings.HasPrefix(f[0].Value, "integration configured"):
				v, u = f[0].Name+" "+f[0].Value, f[0].URL
			}
			rep.Fields = append(rep.Fields, Field{Name: "On call", Value: v, URL: u})
		}
	}
	if ent.Metadata.Annotations[catalog.AnnotationTechDocsRef] != "" {
		rep.Fields = append(rep.Fields, Field{Name: "Docs", Value: "TechDocs", URL: h.docsURL(ref)})
	} else {
		for _, l := range ent.Metadata.Links {
			if u, ok := safeURL(l.URL); ok && strings.Contains(strings.ToLower(l.Title+" "+l.Type), "doc") {
				t := strings.TrimSpace(l.Title)
				if t == "" {
					t = u
				}
				rep.Fields = append(rep.Fields, Field{Name: "Docs", Value: truncate(t, 80), URL: u})
				break
			}
		}
	}
	if lc := ent.SpecString("lifecycle"); lc != "" {
		rep.Fields = append(rep.Fields, Field{Name: "Lifecycle", Value: truncate(lc, 40)})
	}
	rep.Links = []Link{{Text: "Open in the portal", URL: h.entityURL(ref)}}
	return rep, true
}
