package commands

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// ActionRun is the action of buttons that run a command; the button's
// Value is the command line ("owner component:default/payments-api").
const ActionRun = "run"

// defaultPortalURL is used for links when Params.PortalURL is empty; it is
// where a local Backstage app listens by default.
const defaultPortalURL = "http://localhost:3000"

// handlers holds what the catalog commands share.
type handlers struct {
	store  catalog.Store // bounded by the store timeout (view.Bound)
	portal string        // base URL, no trailing slash
	view   *view.View
	defs   *definitionCache
	logger *slog.Logger
	owners *codeOwnersCache
	live   OnCallSource // nil: on-call answers carry links only
	// drift and templates feed the home page; nil leaves their part out.
	drift     DriftSource
	templates TemplateService
	users     userIndex
}

// New returns a router with every command registered: owner, docs, team,
// oncall, deps, search, help, and the drift and template commands when
// their services are configured. p.Store is required; a nil Logger
// discards logs. Help is generated from the registrations.
func New(p Params) *Router {
	if p.Store == nil {
		panic("commands: New needs a Store")
	}
	logger := p.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	logger = logger.With("component", "commands")
	portal := strings.TrimRight(p.PortalURL, "/")
	if portal == "" {
		portal = defaultPortalURL
	}
	timeout := p.StoreTimeout
	if timeout <= 0 {
		timeout = view.DefaultTimeout
	}
	store := view.Bound(p.Store, timeout)
	if p.Drift != nil {
		p.Drift = boundedDrift{DriftSource: p.Drift, store: store, d: timeout}
	}
	v := p.View
	if v == nil {
		v = view.New(view.Params{Store: p.Store, Timeout: timeout, Logger: p.Logger})
	}
	h := &handlers{
		store:  store,
		portal: portal,
		view:   v,
		defs:   &definitionCache{},
		logger: logger,
		owners: newCodeOwnersCache(),
		live:   p.OnCall,

		drift:     p.Drift,
		templates: p.Templates,
	}
	r := NewRouter(logger)
	entityArg := Arg{Name: "entity", Description: "name, kind:name or kind:namespace/name", Required: true, Complete: "entity"}
	r.Handle(Command{
		Name: "owner", Usage: "owner <entity>", Aliases: []string{"owners"},
		Summary: "Who owns an entity: team, contacts, system, links (also: who owns <entity>)",
		Args:    []Arg{entityArg}, Handler: fromSnapshot(h.owner),
	})
	r.Handle(Command{
		Name: "docs", Usage: "docs <entity>", Aliases: []string{"doc", "documentation"},
		Summary: "Where the docs are: TechDocs, links, API definition (also: where are the docs for <entity>)",
		Args:    []Arg{entityArg}, Handler: fromSnapshot(h.docs),
	})
	r.Handle(Command{
		Name: "team", Usage: "team <group>", Aliases: []string{"group"},
		Summary: "A team's members, parent and children, and what it owns",
		Args:    []Arg{{Name: "group", Description: "group name or group:namespace/name", Required: true, Complete: "group"}},
		Handler: fromSnapshot(h.team),
	})
	r.Handle(Command{
		Name: "oncall", Usage: "oncall <entity>", Aliases: []string{"on-call"},
		Summary: "Who is on call now (PagerDuty, Opsgenie), and on-call links (also: who is on call for <entity>)",
		Args:    []Arg{entityArg}, Handler: fromSnapshot(h.oncall),
	})
	r.Handle(Command{
		Name: "deps", Usage: "deps <entity>", Aliases: []string{"dependencies"},
		Summary: "What an entity depends on, what depends on it, the APIs it provides and consumes",
		Args:    []Arg{entityArg}, Handler: fromSnapshot(h.deps),
	})
	r.Handle(Command{
		Name: "search", Usage: "search <text>", Aliases: []string{"find"},
		Summary: "Search names, titles, descriptions, tags and owners",
		Args:    []Arg{{Name: "query", Description: "words to look for", Required: true}},
		Handler: fromSnapshot(h.search),
	})
	registerTemplates(r, p)
	registerDrift(r, p, h)
	r.Handle(Command{
		Name: "help", Usage: "help [command]", Aliases: []string{"?", "commands"},
		Summary: "List the commands, or explain one",
		Args:    []Arg{{Name: "command", Description: "a command name"}},
		Handler: helpHandler(r, portal),
	})
	r.HandleAction(ActionRun, func(ctx context.Context, req *Request) (Reply, error) {
		c, _ := r.Lookup(req.Action.Value)
		if c == nil {
			return Reply{}, Userf("That button is no longer supported; run the command again.")
		}
		nr := *req
		nr.Action = nil
		nr.Text = normalize(req.Action.Value)
		return c.Handler(ctx, &nr)
	})
	r.preview = h.preview
	r.home = h.home
	r.HandleSuggest("entity", h.suggest(nil))
	r.HandleSuggest("group", h.suggest([]string{catalog.KindGroup}))
	return r
}

// entityURL is the entity's page in the portal. Backstage's entity routes
// are /catalog/:namespace/:kind/:name with kind and namespace lower-cased.
func (h *handlers) entityURL(r catalog.Ref) string {
	return h.portal + "/catalog/" + url.PathEscape(strings.ToLower(r.Namespace)) + "/" +
		url.PathEscape(strings.ToLower(r.Kind)) + "/" + url.PathEscape(r.Name)
}

// docsURL is the entity's TechDocs site in the portal (/docs/:namespace/:kind/:name).
func (h *handlers) docsURL(r catalog.Ref) string {
	return h.portal + "/docs/" + url.PathEscape(strings.ToLower(r.Namespace)) + "/" +
		url.PathEscape(strings.ToLower(r.Kind)) + "/" + url.PathEscape(r.Name)
}

// definitionURL is the API entity's definition tab in the portal.
func (h *handlers) definitionURL(r catalog.Ref) string {
	return h.entityURL(r) + "/definition"
}

// portalLink is the link back to the portal every answer carries.
func (h *handlers) portalLink(r catalog.Ref) Link {
	return Link{Text: "Open " + refLabel(r) + " in the portal", URL: h.entityURL(r)}
}

// suggest offers entities whose name starts with (then contains) prefix,
// for autocompletion.
func (h *handlers) suggest(kinds []string) SuggestFunc {
	return func(ctx context.Context, prefix string, limit int) ([]Option, error) {
		s, err := h.view.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		es := s.Complete(strings.ToLower(cleanArg(prefix)), kinds, limit)
		if len(es) == 0 {
			return nil, nil
		}
		out := make([]Option, len(es))
		for i, e := range es {
			out[i] = Option{Label: suggestionLabel(s, e), Value: e.Key(), Hint: e.Summary().Title}
		}
		return out, nil
	}
}
