package commands

import (
	"log/slog"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// Params are the dependencies of the command engine built by New.
type Params struct {
	// Store is the catalog. Required.
	Store catalog.Store
	// View is the read model of Store that commands resolve names and
	// search in; nil means one of its own, built with StoreTimeout. Pass
	// the one other parts of the process read (the template pickers), so
	// that the catalog is held in memory once.
	View *view.View
	// PortalURL is the developer portal's base URL, without trailing slash.
	PortalURL string
	Logger    *slog.Logger
	// Drift computes drift findings for "drift [team]"; nil disables it.
	Drift DriftSource
	// Templates launches software templates; nil disables create.
	Templates TemplateService
	// StoreTimeout bounds each catalog store call a command waits for; a
	// call past it answers from memory or "temporarily unavailable".
	// Zero means view.DefaultTimeout.
	StoreTimeout time.Duration
	// OnCall names who is on call now for PagerDuty and Opsgenie
	// annotations; nil answers oncall with links only, saying why.
	OnCall OnCallSource
}
