package commands

import (
	"log/slog"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// Params are the dependencies of the command engine built by New.
type Params struct {
	Store catalog.Store
	// PortalURL is the developer portal's base URL, without trailing slash.
	PortalURL string
	Logger    *slog.Logger
	// Drift computes drift findings for "drift [team]"; nil disables it.
	Drift DriftSource
	// Templates launches software templates; nil disables create.
	Templates TemplateService
	// StoreTimeout bounds each catalog store call a command waits for; a
	// call past it answers from memory or "temporarily unavailable".
	// Zero means DefaultStoreTimeout.
	StoreTimeout time.Duration
	// OnCall names who is on call now for PagerDuty and Opsgenie
	// annotations; nil answers oncall with links only, saying why.
	OnCall OnCallSource
}
