package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
)

// The "templates" command and finding a template by what was typed.

// maxListed is the most templates one reply lists; Slack messages hold 50
// blocks (PLATFORM.md), and each template takes a few.
const maxListed = 15

// List implements commands.TemplateService.
func (s *Service) List(ctx context.Context, req *commands.Request, query string) (commands.Reply, error) {
	ents, err := s.store.Entities(ctx, catalog.Query{Kind: catalog.KindTemplate})
	if err != nil {
		return commands.Reply{}, err
	}
	perms := s.perms(ctx, req)
	query = strings.ToLower(strings.TrimSpace(query))
	var rep commands.Reply
	n := 0
	for _, e := range ents {
		t, err := fromEntity(e)
		if err != nil {
			continue
		}
		if query != "" && !matchesQuery(e, query) {
			continue
		}
		ok, err := perms.allowed(ctx, t)
		if err != nil {
			return commands.Reply{}, err
		}
		if !ok {
			continue
		}
		n++
		if len(rep.Sections) >= maxListed {
			continue
		}
		sec := commands.Section{Title: t.Title, Text: abbrevN(strings.TrimSpace(e.Metadata.Description), 280)}
		// The title is what people read, the name what they type.
		sec.Fields = append(sec.Fields, commands.Field{Name: "To launch, type", Value: "create " + t.Ref.Display()})
		if o, ok := e.Owner(); ok {
			sec.Fields = append(sec.Fields, commands.Field{Name: "Owner", Value: o.Display(), URL: entityURL(s.portal, o.String())})
		}
		if len(e.Metadata.Tags) > 0 {
			sec.Fields = append(sec.Fields, commands.Field{Name: "Tags", Value: strings.Join(e.Metadata.Tags, ", ")})
		}
		sec.Buttons = []commands.Button{{Text: "Launch", Action: commands.ActionTemplateLaunch, Value: t.Ref.String(), Style: "primary"}}
		rep.Sections = append(rep.Sections, sec)
	}
	switch {
	case n == 0 && query != "":
		return commands.Reply{}, commands.Userf("No template you can launch matches %q.", query)
	case n == 0:
		return commands.Reply{}, commands.Userf("There are no templates you can launch.")
	}
	rep.Title = "Software templates"
	if n > len(rep.Sections) {
		rep.Text = fmt.Sprintf("Showing %d of %d; narrow it down with templates <query>.", len(rep.Sections), n)
		rep.MoreURL = s.portal + "/create"
	}
	return rep, nil
}

func matchesQuery(e *catalog.Entity, q string) bool {
	if strings.Contains(strings.ToLower(e.Metadata.Name), q) || strings.Contains(strings.ToLower(e.Metadata.Title), q) {
		return true
	}
	for _, t := range e.Metadata.Tags {
		if strings.EqualFold(t, q) {
			return true
		}
	}
	return false
}

// template finds a template by ref, name or title.
func (s *Service) template(ctx context.Context, name string) (*template, error) {
	name = strings.TrimSpace(name)
	if ref, err := catalog.ParseRef(name, catalog.KindTemplate, ""); err == nil && strings.EqualFold(ref.Kind, catalog.KindTemplate) {
		e, err := s.store.Entity(ctx, ref)
		if err == nil {
			return fromEntity(e)
		}
		if !errors.Is(err, catalog.ErrNotFound) {
			return nil, err
		}
	}
	ents, err := s.store.Entities(ctx, catalog.Query{Kind: catalog.KindTemplate})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if strings.EqualFold(e.Metadata.Name, name) || strings.EqualFold(e.Metadata.Title, name) {
			return fromEntity(e)
		}
		names = append(names, e.Metadata.Name)
	}
	if near := view.Nearest(name, names, 3); len(near) > 0 {
		return nil, commands.Userf("No template %q; did you mean %s?", abbrevN(name, 60), strings.Join(near, ", "))
	}
	return nil, commands.Userf("No template %q. Try templates to list them.", abbrevN(name, 60))
}
