package commands

import (
	"context"
	"strings"
)

// Action IDs of the template flow.
const (
	// ActionTemplateLaunch is a template's Launch button; Value is the
	// template's canonical ref.
	ActionTemplateLaunch = "template.launch"
	// ActionTemplateSubmit is the Form.Action of every template form step.
	ActionTemplateSubmit = "template.submit"
)

// TemplateService launches software templates (implemented by package
// scaffolder). Its methods return user-facing problems as UserError.
type TemplateService interface {
	// List answers "templates [query]": the templates the user may launch,
	// each a Section with a Launch button.
	List(ctx context.Context, req *Request, query string) (Reply, error)
	// Open answers "create <template>" and the Launch button with the
	// template's first form step.
	Open(ctx context.Context, req *Request, template string) (Reply, error)
	// Submit answers a submitted form step (req.Action.Form): FieldErrors,
	// the next step's Form, or the launch's confirmation. A submission
	// seen before launches nothing.
	Submit(ctx context.Context, req *Request) (Reply, error)
	// SuggestSources returns the type-ahead sources the forms name in
	// Input.Source and Arg.Complete, by name.
	SuggestSources() map[string]SuggestFunc
}

// SuggestTemplates is the Suggest source completing template names.
const SuggestTemplates = "template.names"

func registerTemplates(r *Router, p Params) {
	svc := p.Templates
	off := func(context.Context, *Request) (Reply, error) {
		return Reply{}, Userf("Launching templates is not set up on this bot.")
	}
	list, create, launch, submit := off, off, off, off
	if svc != nil {
		list = func(ctx context.Context, req *Request) (Reply, error) {
			_, rest := r.Lookup(req.Text)
			return svc.List(ctx, req, rest)
		}
		create = func(ctx context.Context, req *Request) (Reply, error) {
			_, rest := r.Lookup(req.Text)
			if strings.TrimSpace(rest) == "" {
				return Reply{}, Userf("Which template? Try: create <template>, or templates to list them.")
			}
			return svc.Open(ctx, req, rest)
		}
		launch = func(ctx context.Context, req *Request) (Reply, error) {
			return svc.Open(ctx, req, req.Action.Value)
		}
		submit = func(ctx context.Context, req *Request) (Reply, error) {
			if req.Action.Form == nil {
				return Reply{}, Userf("That form came back empty; run create again.")
			}
			return svc.Submit(ctx, req)
		}
		for name, f := range svc.SuggestSources() {
			r.HandleSuggest(name, f)
		}
	}
	r.Handle(Command{Name: "templates", Usage: "templates [query]", Summary: "List the software templates you can launch", Handler: list,
		Args: []Arg{{Name: "query", Description: "Filter by name, title or tag"}}})
	r.Handle(Command{Name: "create", Usage: "create <template>", Summary: "Launch a software template through a form", Handler: create,
		Args: []Arg{{Name: "template", Description: "Template name or ref", Required: true, Complete: SuggestTemplates}}})
	r.HandleAction(ActionTemplateLaunch, launch)
	r.HandleAction(ActionTemplateSubmit, submit)
}
