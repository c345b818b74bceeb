package bot

import (
	"net/url"

	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/oncall"
	"github.com/portalbot/portalbot/scaffolder"
)

// newRouter builds the command engine for a: the catalog commands, the
// template service (Backstage's scaffolder when PORTALBOT_BACKSTAGE_URL and
// PORTALBOT_BACKSTAGE_TOKEN are set, the built-in runner otherwise) and the
// drift command, with serve's metrics middleware when a has metrics. The
// commands and the template pickers read one catalog view. The returned
// func stops template runs in progress; call it on shutdown.
func newRouter(a *App) (*commands.Router, func()) {
	v := view.New(view.Params{Store: a.Store, Timeout: a.Config.StoreTimeout, Logger: a.Logger})
	a.view = v
	svc, closeTemplates := newTemplates(a, v)
	a.templates = svc
	p := commands.Params{
		Store:     a.Store,
		View:      v,
		PortalURL: a.Config.PortalURL,
		Logger:    a.Logger, // commands scopes it with its component
		Templates: svc,
		Drift:     newDriftSource(a),
		OnCall:    newOnCall(a),

		StoreTimeout: a.Config.StoreTimeout,
	}
	r := commands.New(p)
	if a.Metrics != nil {
		r.Use(a.Metrics.Middleware)
	}
	return r, closeTemplates
}

// newTemplates builds the template service and its launcher; its pickers
// read v.
func newTemplates(a *App, v *view.View) (*scaffolder.Service, func()) {
	logger := a.Logger // scaffolder scopes it with its component
	params := scaffolder.Params{
		Store:     a.Store,
		View:      v,
		Audit:     a.Store,
		PortalURL: a.Config.PortalURL,
		Logger:    logger,
	}
	for _, r := range a.Config.Templates.Permissions {
		params.Rules = append(params.Rules, scaffolder.Rule{Templates: r.Templates, Tags: r.Tags, Users: r.Users, Groups: r.Groups})
	}
	var closeLauncher func()
	if base, tok := a.Env.getenv("PORTALBOT_BACKSTAGE_URL"), a.Env.getenv("PORTALBOT_BACKSTAGE_TOKEN"); base != "" && tok != "" {
		params.Launcher = scaffolder.NewBackstage(base, tok, nil, logger)
		portal := a.Config.PortalURL
		params.TaskURL = func(id string) string { return portal + "/create/tasks/" + url.PathEscape(id) }
		closeLauncher = func() {}
	} else {
		rp := scaffolder.RunnerParams{Store: a.Store, PublishBase: a.Config.Templates.PublishBase, Logger: logger}
		if a.Syncer != nil {
			rp.Files = a.Syncer
		}
		runner := scaffolder.NewRunner(rp)
		params.Launcher = runner
		closeLauncher = runner.Close
	}
	svc := scaffolder.New(params)
	return svc, func() {
		svc.Close()
		closeLauncher()
	}
}

// newOnCall builds the live on-call lookup: PagerDuty with
// PORTALBOT_PAGERDUTY_TOKEN (PORTALBOT_PAGERDUTY_API_URL for the EU region
// or tests), Opsgenie with PORTALBOT_OPSGENIE_API_KEY
// (PORTALBOT_OPSGENIE_API_URL likewise). It is built without tokens too, so
// that oncall answers say which token is missing.
func newOnCall(a *App) commands.OnCallSource {
	p := oncall.Params{
		PagerDutyToken: oncall.Secret(a.Env.getenv("PORTALBOT_PAGERDUTY_TOKEN")),
		PagerDutyURL:   a.Env.getenv("PORTALBOT_PAGERDUTY_API_URL"),
		OpsgenieKey:    oncall.Secret(a.Env.getenv("PORTALBOT_OPSGENIE_API_KEY")),
		OpsgenieURL:    a.Env.getenv("PORTALBOT_OPSGENIE_API_URL"),
	}
	for name, v := range map[string]string{"PORTALBOT_PAGERDUTY_API_URL": p.PagerDutyURL, "PORTALBOT_OPSGENIE_API_URL": p.OpsgenieURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			a.Logger.Error("live on-call lookups are off: want an absolute URL", "variable", name)
			return nil
		}
	}
	return oncall.New(p)
}
