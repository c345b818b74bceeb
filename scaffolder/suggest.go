package scaffolder

import (
	"context"
	"sort"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
)

// Type-ahead sources for template names and the entity pickers.

// Entity sources for type-ahead selects. Router.HandleSuggest needs fixed
// names, so there is one per kind, one for owners (Group and User, the
// OwnerPicker default) and one for any kind; validation still enforces a
// field's exact filter.
const suggestEntities = "template.entities"

var suggestKinds = []string{
	catalog.KindComponent, catalog.KindAPI, catalog.KindResource, catalog.KindSystem, catalog.KindDomain,
	catalog.KindGroup, catalog.KindUser, catalog.KindLocation, catalog.KindTemplate,
}

func kindsKey(kinds []string) string {
	l := make([]string, len(kinds))
	for i, k := range kinds {
		l[i] = strings.ToLower(k)
	}
	sort.Strings(l)
	return strings.Join(l, "+")
}

// sourceFor names the suggest source for an entity picker of kinds.
func sourceFor(kinds []string) string {
	switch key := kindsKey(kinds); {
	case key == "":
		return suggestEntities
	case key == "group+user":
		return suggestEntities + ":" + key
	case !strings.Contains(key, "+"):
		for _, k := range suggestKinds {
			if strings.EqualFold(k, key) {
				return suggestEntities + ":" + key
			}
		}
	}
	return suggestEntities
}

// SuggestSources implements commands.TemplateService.
func (s *Service) SuggestSources() map[string]commands.SuggestFunc {
	out := map[string]commands.SuggestFunc{
		commands.SuggestTemplates:       s.suggestTemplates,
		suggestEntities:                 s.suggestEntities(nil),
		suggestEntities + ":group+user": s.suggestEntities([]string{catalog.KindGroup, catalog.KindUser}),
	}
	for _, k := range suggestKinds {
		out[suggestEntities+":"+strings.ToLower(k)] = s.suggestEntities([]string{k})
	}
	return out
}

// The type-ahead sources read the catalog view's snapshot, not the
// store: a keystroke costs no query, and a picker still offers the
// catalog from memory while the database does not answer.

func (s *Service) suggestEntities(kinds []string) commands.SuggestFunc {
	return func(ctx context.Context, prefix string, limit int) ([]commands.Option, error) {
		snap, err := s.view.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		return entityOptions(snap, &field{Kinds: kinds}, prefix, limit), nil
	}
}

func (s *Service) suggestTemplates(ctx context.Context, prefix string, limit int) ([]commands.Option, error) {
	snap, err := s.view.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return entityOptions(snap, &field{Kinds: []string{catalog.KindTemplate}}, prefix, limit), nil
}

// entityOptions lists the entities of snap a picker offers: of an allowed
// kind and matching one of its catalog filters on the fields a Summary
// carries; filters on other fields are left to validation. prefix filters
// by name or title; limit 0 means all.
func entityOptions(snap view.Snapshot, f *field, prefix string, limit int) []commands.Option {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	var out []commands.Option
	for e := range snap.Summaries {
		sm := e.Summary()
		if len(f.Kinds) > 0 && !containsFold(f.Kinds, sm.Ref.Kind) {
			continue
		}
		if len(f.Filters) > 0 {
			ok := false
			for _, flt := range f.Filters {
				if summaryMatches(sm, flt) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if prefix != "" && !strings.Contains(e.Name(), prefix) && !strings.Contains(e.Title(), prefix) {
			continue
		}
		label := sm.Ref.Display()
		if len(f.Kinds) != 1 {
			label = strings.ToLower(sm.Ref.Kind) + ":" + label
		}
		if sm.Title != "" && sm.Title != sm.Ref.Name {
			label += " (" + sm.Title + ")"
		}
		out = append(out, commands.Option{Label: abbrevN(label, 75), Value: e.Key()})
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}

func summaryMatches(sm *catalog.Summary, flt map[string]any) bool {
	for k, v := range flt {
		want := stringList(v)
		if len(want) == 0 {
			continue
		}
		var have string
		switch k {
		case "kind":
			have = sm.Ref.Kind
		case "metadata.name":
			have = sm.Ref.Name
		case "metadata.namespace":
			have = sm.Ref.Namespace
		case "spec.type":
			have = sm.Type
		case "spec.lifecycle":
			have = sm.Lifecycle
		case "spec.owner":
			have = sm.Owner
		default:
			continue
		}
		if !containsFold(want, have) {
			return false
		}
	}
	return true
}
