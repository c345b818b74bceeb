package commands

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// maxOwnedListed is how many owned entities a team answer names.
const maxOwnedListed = 10

func (h *handlers) team(ctx context.Context, req *Request) (view.Snapshot, Reply, error) {
	s, e, rep, err := h.resolve(ctx, "team", argText(req), []string{catalog.KindGroup})
	if err != nil {
		return s, rep, err
	}
	if er := e.Ref(); !strings.EqualFold(er.Kind, catalog.KindGroup) {
		return s, Reply{Buttons: []Button{cmdButton("owner "+er.Name, "owner "+er.String())}},
			Userf("%s is not a team; team takes a group. Ask \"owner %s\" for who owns it.", refLabel(er), er.Name)
	}
	g, err := h.entity(ctx, s, e)
	if err != nil {
		return s, Reply{}, err
	}
	ref := g.Ref()
	rep = Reply{Title: displayName(g) + " (" + refLabel(ref) + ")", MoreURL: h.entityURL(ref)}
	if d := strings.TrimSpace(g.Metadata.Description); d != "" {
		rep.Text = truncate(d, 300)
	}
	if t := g.SpecString("type"); t != "" {
		rep.Fields = append(rep.Fields, Field{Name: "Type", Value: t})
	}
	if _, email := profile(g); email != "" {
		rep.Fields = append(rep.Fields, Field{Name: "Email", Value: email})
	}
	rep.Fields = append(rep.Fields, chatFields(g)...)

	members := dedupeRefs(relTargets(g.Relations, catalog.RelHasMember))
	if len(members) == 0 {
		rep.Fields = append(rep.Fields, Field{Name: "Members", Value: "none in the catalog"})
	} else {
		shown := members[:min(len(members), maxListed)]
		ms, err := s.Load(ctx, shown)
		if err != nil {
			return s, Reply{}, err
		}
		list := make([]*catalog.Entity, 0, len(shown))
		for _, m := range shown {
			if me := ms[m.String()]; me != nil {
				list = append(list, me)
			} else {
				list = append(list, &catalog.Entity{Kind: m.Kind, Metadata: catalog.Metadata{Name: m.Name, Namespace: m.Namespace}})
			}
		}
		rep.Fields = append(rep.Fields, Field{Name: "Members (" + strconv.Itoa(len(members)) + ")", Value: memberNames(list, len(members), maxListed)})
	}
	if parents := relTargets(g.Relations, catalog.RelChildOf); len(parents) > 0 {
		rep.Fields = append(rep.Fields, Field{Name: "Parent", Value: h.refList(s, parents)})
	}
	if children := dedupeRefs(relTargets(g.Relations, catalog.RelParentOf)); len(children) > 0 {
		rep.Fields = append(rep.Fields, Field{Name: "Children", Value: h.refList(s, children)})
	}

	owned := s.Owned(ref.String())
	if owned.Len() == 0 {
		rep.Fields = append(rep.Fields, Field{Name: "Owns", Value: "nothing in the catalog"})
	} else {
		rep.Fields = append(rep.Fields, Field{Name: "Owns", Value: ownedCounts(owned)})
		sec := Section{Title: "Owned entities"}
		sec.Links = h.ownedLinks(owned, maxOwnedListed)
		if more := owned.Len() - maxOwnedListed; more > 0 {
			sec.Text = "+" + strconv.Itoa(more) + " more in the portal."
		}
		rep.Sections = append(rep.Sections, sec)
	}
	rep.Links = []Link{{Text: "Portal page", URL: h.entityURL(ref)}}
	return s, rep, nil
}

// ownedLinks links the first n entries of owned to the portal.
func (h *handlers) ownedLinks(owned view.List, n int) []Link {
	var links []Link
	for i := range min(owned.Len(), n) {
		sm := owned.At(i).Summary()
		links = append(links, Link{Text: refLabel(sm.Ref) + titleSuffix(*sm), URL: h.entityURL(sm.Ref)})
	}
	return links
}

// ownedCounts says how many entities of each kind owned holds:
// "3 components, 1 api".
func ownedCounts(owned view.List) string {
	counts := map[string]int{}
	for i := range owned.Len() {
		counts[owned.At(i).Ref().Kind]++
	}
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(a, b int) bool {
		if ra, rb := view.KindRank(kinds[a]), view.KindRank(kinds[b]); ra != rb {
			return ra < rb
		}
		return kinds[a] < kinds[b]
	})
	var parts []string
	for _, k := range kinds {
		parts = append(parts, strconv.Itoa(counts[k])+" "+plural(counts[k], kindNoun(k)))
	}
	return strings.Join(parts, ", ")
}

// titleSuffix is " — Title" when the entity has a title different from its name.
func titleSuffix(sm catalog.Summary) string {
	if sm.Title == "" || strings.EqualFold(sm.Title, sm.Ref.Name) {
		return ""
	}
	return " — " + sm.Title
}

// kindNoun is a kind as a noun in a sentence: lower case, but "API"
// stays an acronym.
func kindNoun(kind string) string {
	if strings.EqualFold(kind, catalog.KindAPI) {
		return "API"
	}
	return strings.ToLower(kind)
}
