package commands

import (
	"context"
	"strings"
)

// helpHandler lists the registered commands, or explains one; the text is
// generated from the registrations so it cannot drift from what exists.
func helpHandler(r *Router, portal string) HandlerFunc {
	return func(ctx context.Context, req *Request) (Reply, error) {
		if name := strings.ToLower(cleanArg(argText(req))); name != "" {
			c := r.commands[name]
			if c == nil || c.Hidden {
				return Reply{}, Userf("There is no command %q. %s", truncate(name, 40), r.helpHint())
			}
			rep := Reply{Title: c.Usage, Text: c.Summary}
			for _, a := range c.Args {
				v := a.Description
				if !a.Required {
					v += " (optional)"
				}
				rep.Fields = append(rep.Fields, Field{Name: a.Name, Value: v})
			}
			if len(c.Aliases) > 0 {
				rep.Fields = append(rep.Fields, Field{Name: "Also", Value: strings.Join(c.Aliases, ", ")})
			}
			rep.Links = []Link{{Text: "Developer portal", URL: portal}}
			return rep, nil
		}
		rep := Reply{
			Title: "What I can answer",
			Text:  "Ask in plain words (\"who owns payments-api?\", \"where are the docs for payments-api?\") or use a command. Names can be name, kind:name or kind:namespace/name.",
		}
		for _, c := range r.Commands() {
			rep.Fields = append(rep.Fields, Field{Name: c.Usage, Value: c.Summary})
		}
		rep.Links = []Link{{Text: "Developer portal", URL: portal}}
		return rep, nil
	}
}
