package commands

import (
	"context"
	"net/url"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// oncallAnnotation is an annotation that Backstage's incident-management
// plugins read to find an entity's on-call setup.
type oncallAnnotation struct {
	key   string
	label string
	// link builds a URL from the value; nil means no public URL exists
	// without account-specific configuration.
	link func(v string) string
	// secret values (integration keys trigger incidents) are never shown.
	secret bool
	// provider, when set, is the service an OnCallSource asks who is on
	// call now for this annotation.
	provider string
}

// oncallAnnotations, from the plugins' own documentation and sources:
// PagerDuty (@pagerduty/backstage-plugin: pagerduty.com/service-id,
// pagerduty.com/integration-key), Opsgenie (opsgenie.com/team,
// opsgenie.com/component-selector), Splunk On-Call
// (splunk.com/on-call-team, splunk.com/on-call-routing-key), iLert
// (ilert.com/integration-key), FireHydrant (firehydrant.com/service-name)
// and Rootly (rootly.com/service-id, service-slug, team-slug).
var oncallAnnotations = []oncallAnnotation{
	{key: "pagerduty.com/service-id", label: "PagerDuty service", link: func(v string) string {
		return "https://app.pagerduty.com/service-directory/" + url.PathEscape(v)
	}, provider: "PagerDuty"},
	{key: "pagerduty.com/integration-key", label: "PagerDuty", secret: true, provider: "PagerDuty"},
	{key: "opsgenie.com/team", label: "Opsgenie team", provider: "Opsgenie"},
	{key: "opsgenie.com/component-selector", label: "Opsgenie alerts"},
	{key: "splunk.com/on-call-team", label: "Splunk On-Call team"},
	{key: "splunk.com/on-call-routing-key", label: "Splunk On-Call routing key"},
	{key: "ilert.com/integration-key", label: "iLert", secret: true},
	{key: "firehydrant.com/service-name", label: "FireHydrant service"},
	{key: "rootly.com/service-slug", label: "Rootly service"},
	{key: "rootly.com/service-id", label: "Rootly service"},
	{key: "rootly.com/team-slug", label: "Rootly team"},
}

// oncallLinkWords mark metadata.links that are on-call pages or runbooks.
var oncallLinkWords = []string{"on-call", "oncall", "on call", "pager", "runbook", "escalation", "incident"}

func (h *handlers) oncall(ctx context.Context, req *Request) (view.Snapshot, Reply, error) {
	s, ent, rep, err := h.subject(ctx, "oncall", req)
	if err != nil {
		return s, rep, err
	}
	ref := ent.Ref()
	rep = Reply{Title: "On call for " + describe(ent), MoreURL: h.entityURL(ref)}
	fields, links := oncallInfo(ent)
	from := ent
	ownerRef, hasOwner := ent.Owner()
	var own *catalog.Entity
	if hasOwner && s.Has(ownerRef) {
		rel, err := s.Load(ctx, []catalog.Ref{ownerRef})
		if err != nil {
			return s, Reply{}, err
		}
		own = rel[ownerRef.String()]
	}
	if len(fields) == 0 && len(links) == 0 && own != nil {
		fields, links = oncallInfo(own)
		from = own
	}
	switch {
	case len(fields) == 0 && len(links) == 0:
		rep.Text = "No on-call rotation is known for " + refLabel(ref)
		if own != nil {
			rep.Text += " or its owner " + displayName(own)
		}
		rep.Text += ": neither has a PagerDuty, Opsgenie, Splunk On-Call, iLert, FireHydrant or Rootly annotation."
		if own != nil {
			rep.Text += " Ask the owning team directly."
		}
	case from != ent:
		rep.Text = refLabel(ref) + " names no on-call rotation itself; this is its owner " + displayName(own) + "'s."
	}
	if len(fields) > 0 {
		now, note := h.liveOnCall(ctx, from.Metadata.Annotations)
		rep.Text = strings.TrimSpace(rep.Text + " " + note)
		rep.Fields = append(rep.Fields, now...)
	}
	rep.Fields = append(rep.Fields, fields...)
	if own != nil {
		rep.Fields = append(rep.Fields, Field{Name: "Owner", Value: displayName(own) + " (" + refLabel(ownerRef) + ")", URL: h.entityURL(ownerRef)})
		rep.Fields = append(rep.Fields, chatFields(own, ent)...)
	} else if hasOwner {
		rep.Fields = append(rep.Fields, Field{Name: "Owner", Value: refLabel(ownerRef) + " (not in the catalog)"})
	}
	rep.Links = append(rep.Links, links...)
	rep.Links = append(rep.Links, Link{Text: "Portal page", URL: h.entityURL(from.Ref())})
	return s, withOrphanWarning(ent, rep), nil
}

// oncallInfo reads e's on-call annotations and on-call-looking links.
func oncallInfo(e *catalog.Entity) ([]Field, []Link) {
	var fields []Field
	var links []Link
	for _, a := range oncallAnnotations {
		v := strings.TrimSpace(e.Metadata.Annotations[a.key])
		if v == "" {
			continue
		}
		if a.secret {
			fields = append(fields, Field{Name: a.label, Value: "integration configured (see the portal page)"})
			continue
		}
		f := Field{Name: a.label, Value: truncate(v, 120)}
		if a.link != nil {
			f.URL = a.link(v)
		}
		fields = append(fields, f)
	}
	for _, l := range e.Metadata.Links {
		u, ok := safeURL(l.URL)
		if !ok {
			continue
		}
		text := strings.ToLower(l.Title + " " + l.Type + " " + l.Icon)
		for _, w := range oncallLinkWords {
			if strings.Contains(text, w) {
				t := l.Title
				if t == "" {
					t = u
				}
				links = append(links, Link{Text: truncate(t, 80), URL: u})
				break
			}
		}
	}
	return fields, links
}
