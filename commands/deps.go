package commands

import (
	"context"
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// maxListed is how many entities one field of an answer names.
const maxListed = 10

// depsGroups are the relations deps reports, in order, with their labels.
var depsGroups = []struct{ rel, label string }{
	{catalog.RelDependsOn, "Depends on"},
	{catalog.RelDependencyOf, "Depended on by"},
	{catalog.RelProvidesAPI, "Provides APIs"},
	{catalog.RelConsumesAPI, "Consumes APIs"},
	{catalog.RelAPIProvidedBy, "Provided by"},
	{catalog.RelAPIConsumedBy, "Consumed by"},
	{catalog.RelHasPart, "Has parts"},
	{catalog.RelPartOf, "Part of"},
}

func (h *handlers) deps(ctx context.Context, req *Request) (view.Snapshot, Reply, error) {
	s, ent, rep, err := h.subject(ctx, "deps", req)
	if err != nil {
		return s, rep, err
	}
	ref := ent.Ref()
	rep = Reply{Title: "Dependencies of " + describe(ent), MoreURL: h.entityURL(ref)}
	for _, g := range depsGroups {
		targets := dedupeRefs(relTargets(ent.Relations, g.rel))
		if len(targets) == 0 {
			continue
		}
		rep.Fields = append(rep.Fields, Field{Name: g.label, Value: h.refList(s, targets)})
	}
	if len(rep.Fields) == 0 {
		rep.Text = refLabel(ref) + " declares no dependencies or APIs, and nothing in the catalog depends on it."
	}
	rep.Links = []Link{{Text: "Portal page", URL: h.entityURL(ref)}}
	rep.Buttons = []Button{cmdButton("Owner", "owner "+ref.String())}
	return s, withOrphanWarning(ent, rep), nil
}

// refList names refs briefly, marking those the catalog does not hold.
func (h *handlers) refList(s view.Snapshot, refs []catalog.Ref) string {
	var names []string
	for _, r := range refs {
		if len(names) == maxListed {
			break
		}
		n := refLabel(r)
		if !s.Has(r) {
			n += " (not in the catalog)"
		}
		names = append(names, n)
	}
	out := strings.Join(names, ", ")
	if more := len(refs) - len(names); more > 0 {
		out += ", +" + strconv.Itoa(more) + " more"
	}
	return out
}

func dedupeRefs(refs []catalog.Ref) []catalog.Ref {
	seen := map[string]bool{}
	out := refs[:0:0]
	for _, r := range refs {
		if k := r.String(); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}
