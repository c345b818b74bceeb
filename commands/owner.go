package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// maxMembers is how many members an answer names before "+N more".
const maxMembers = 5

func (h *handlers) owner(ctx context.Context, req *Request) (view.Snapshot, Reply, error) {
	s, e, rep, err := h.resolve(ctx, "owner", argText(req), nil)
	if err != nil {
		return s, rep, err
	}
	// Only a person's answer shows relations of the subject (the teams it
	// belongs to); any other reads the subject's row alone (issue 19).
	var ent *catalog.Entity
	if strings.EqualFold(e.Ref().Kind, catalog.KindUser) {
		ent, err = h.entity(ctx, s, e)
	} else {
		ent, err = h.entityWithoutRelations(ctx, s, e)
	}
	if err != nil {
		return s, Reply{}, err
	}
	ref := ent.Ref()
	label := refLabel(ref)
	switch {
	case strings.EqualFold(ref.Kind, catalog.KindGroup):
		return s, Reply{
			Title:   label + " is a team",
			Text:    "Teams are not owned by anyone. Ask \"team " + ref.Name + "\" for its members and what it owns.",
			Buttons: []Button{cmdButton("team "+ref.Name, "team "+ref.String())},
			Links:   []Link{h.portalLink(ref)},
			MoreURL: h.entityURL(ref),
		}, nil
	case strings.EqualFold(ref.Kind, catalog.KindUser):
		rep, err := h.userOwner(ctx, s, ent)
		return s, rep, err
	}

	ownerRef, hasOwner := ent.Owner()
	if !hasOwner {
		return s, withOrphanWarning(ent, Reply{
			Title:   label + " has no owner",
			Text:    "Its descriptor sets no spec.owner" + originSuffix(ent.Origin) + ". Every " + ref.Kind + " should name the team that runs it.",
			Links:   []Link{h.portalLink(ref)},
			MoreURL: h.entityURL(ref),
		}), nil
	}

	// The owner with its relations (its members), the system without:
	// the answer shows only its domain, and a system's relations name
	// every part of it (issue 19).
	rel, err := s.Load(ctx, []catalog.Ref{ownerRef})
	if err != nil {
		return s, Reply{}, err
	}
	own := rel[ownerRef.String()]
	sysRef, hasSys := parseSpecRef(ent, "system", catalog.KindSystem)
	var sys *catalog.Entity
	if hasSys {
		if sys, err = s.LoadWithoutRelations(ctx, sysRef); err != nil {
			return s, Reply{}, err
		}
	}

	// Each string of the answer is built once: this is the hot path of
	// the most asked question (issue 19).
	refKey, entURL := ref.String(), h.entityURL(ref)
	var ownerURL string
	rep = Reply{MoreURL: entURL, Fields: make([]Field, 0, 8), Links: make([]Link, 0, 4)}
	ownerName := ownerRef.Display()
	if own != nil {
		ownerName = displayName(own)
		ownerURL = h.entityURL(ownerRef)
		rep.Title = ref.Name + " is owned by " + ownerName
		rep.Fields = append(rep.Fields, Field{Name: "Owner", Value: ownerName + " (" + refLabel(ownerRef) + ")", URL: ownerURL})
		if _, email := profile(own); email != "" {
			rep.Fields = append(rep.Fields, Field{Name: "Email", Value: email})
		}
	} else {
		rep.Title = ref.Name + " names an owner that is not in the catalog"
		rep.Text = "Its spec.owner is " + ownerRef.String() + ", but the catalog has no such " + strings.ToLower(ownerRef.Kind) + originSuffix(ent.Origin) + "."
		rep.Fields = append(rep.Fields, Field{Name: "Owner", Value: refLabel(ownerRef) + " (missing)"})
	}
	rep.Fields = append(rep.Fields, chatFields(own, ent)...)
	if own != nil {
		members, total := firstTargets(own.Relations, catalog.RelHasMember, maxMembers)
		if total > 0 {
			ms, err := s.Load(ctx, members)
			if err != nil {
				return s, Reply{}, err
			}
			list := make([]*catalog.Entity, 0, maxMembers)
			for _, m := range members {
				if me := ms[m.String()]; me != nil {
					list = append(list, me)
				} else {
					list = append(list, &catalog.Entity{Kind: m.Kind, Metadata: catalog.Metadata{Name: m.Name, Namespace: m.Namespace}})
				}
			}
			rep.Fields = append(rep.Fields, Field{Name: "Members", Value: memberNames(list, total, maxMembers)})
		}
	}
	if hasSys {
		rep.Fields = append(rep.Fields, h.refField(s, "System", sysRef))
		if sys != nil {
			if d, ok := parseSpecRef(sys, "domain", catalog.KindDomain); ok {
				rep.Fields = append(rep.Fields, h.refField(s, "Domain", d))
			}
		}
	} else if d, ok := parseSpecRef(ent, "domain", catalog.KindDomain); ok {
		rep.Fields = append(rep.Fields, h.refField(s, "Domain", d))
	}
	if co, err := h.codeOwnersField(ctx, s, e, ownerRef, own); err != nil {
		// CODEOWNERS is a cross-check, not the answer: say nothing rather
		// than fail the question when the source state cannot be read.
		h.logger.WarnContext(ctx, "codeowners lookup failed", "entity_ref", e.Key(), "err", err)
	} else if co != nil {
		rep.Fields = append(rep.Fields, *co)
	}

	rep.Links = append(rep.Links, Link{Text: "Portal page", URL: entURL})
	if u, ok := sourceURL(ent); ok {
		rep.Links = append(rep.Links, Link{Text: "Source", URL: u})
	}
	if own != nil {
		rep.Links = append(rep.Links, Link{Text: ownerName + " in the portal", URL: ownerURL})
	}
	if strings.EqualFold(ref.Kind, catalog.KindAPI) {
		rep.Links = append(rep.Links, Link{Text: "API definition", URL: h.definitionURL(ref)})
	}
	rep.Buttons = []Button{
		cmdButton("Docs", "docs "+refKey),
		cmdButton("On call", "oncall "+refKey),
		cmdButton("Dependencies", "deps "+refKey),
	}
	return s, withOrphanWarning(ent, rep), nil
}

// firstTargets returns the first n targets of rels of type typ, in order,
// and how many there are in all, without collecting the rest: every owner
// answer names a team by its first few members, however large the team.
func firstTargets(rels []catalog.Relation, typ string, n int) ([]catalog.Ref, int) {
	out := make([]catalog.Ref, 0, n)
	total := 0
	for t := range targets(rels, typ) {
		if total++; len(out) < n {
			out = append(out, t)
		}
	}
	return out, total
}

// userOwner answers "owner" for a person: the teams they belong to.
func (h *handlers) userOwner(ctx context.Context, s view.Snapshot, u *catalog.Entity) (Reply, error) {
	ref := u.Ref()
	rep := Reply{
		Title:   displayName(u) + " is a person (" + refLabel(ref) + ")",
		Links:   []Link{h.portalLink(ref)},
		MoreURL: h.entityURL(ref),
	}
	if _, email := profile(u); email != "" {
		rep.Fields = append(rep.Fields, Field{Name: "Email", Value: email})
	}
	groups := relTargets(u.Relations, catalog.RelMemberOf)
	if len(groups) == 0 {
		rep.Text = "People are not owned; this one belongs to no team in the catalog."
		return rep, nil
	}
	gs, err := s.Load(ctx, groups)
	if err != nil {
		return Reply{}, err
	}
	var names []string
	for _, g := range groups {
		n := refLabel(g)
		if ge := gs[g.String()]; ge != nil {
			n = displayName(ge) + " (" + refLabel(g) + ")"
		}
		names = append(names, n)
		if len(rep.Buttons) < maxSuggestions {
			rep.Buttons = append(rep.Buttons, cmdButton("team "+g.Name, "team "+g.String()))
		}
	}
	rep.Text = "People are not owned; this one is a member of the teams below."
	rep.Fields = append(rep.Fields, Field{Name: "Teams", Value: strings.Join(names, ", ")})
	return rep, nil
}

// refField is a labelled link to ref, titled from the index when known.
func (h *handlers) refField(s view.Snapshot, name string, r catalog.Ref) Field {
	if e := s.Lookup(r); e != nil {
		v := r.Display()
		if t := e.Summary().Title; t != "" && t != r.Name {
			v = t + " (" + r.Display() + ")"
		}
		return Field{Name: name, Value: v, URL: h.entityURL(e.Ref())}
	}
	return Field{Name: name, Value: r.Display() + " (not in the catalog)"}
}

// parseSpecRef reads spec[key] as a reference of defaultKind in the
// entity's namespace.
func parseSpecRef(e *catalog.Entity, key, defaultKind string) (catalog.Ref, bool) {
	v := e.SpecString(key)
	if v == "" {
		return catalog.Ref{}, false
	}
	r, err := catalog.ParseRef(v, defaultKind, e.Ref().Namespace)
	if err != nil {
		return catalog.Ref{}, false
	}
	return r, true
}

// originSuffix names where a descriptor lives, for messages that ask
// someone to fix it.
func originSuffix(o catalog.Origin) string {
	if o.Path == "" {
		return ""
	}
	s := " (" + o.Path
	if o.Line > 0 {
		s += fmt.Sprintf(" line %d", o.Line)
	}
	if o.Source != "" {
		s += " in " + o.Source
	}
	return s + ")"
}
