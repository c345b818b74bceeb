package bot

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/scaffolder"
)

// App is what serve's parts share: configuration, the store, the command
// router and the HTTP mux they register routes on.
type App struct {
	Config Config
	Env    *Env
	Logger *slog.Logger
	Store  *sqlstore.Store
	Router *commands.Router
	// Syncer syncs the configured sources; templates read skeletons
	// through it. Nil in subcommands that do not sync.
	Syncer *ingest.Syncer
	Mux    *http.ServeMux
	// Metrics is never nil in serve; parts record their series on it.
	Metrics *Metrics
	// Holder identifies this process in leases and job runs
	// (hostname-pid-random), so replicas can tell their claims apart.
	Holder string
	// Posters by platform ("slack", "discord"), set by the adapter parts
	// for scheduled reports and template progress.
	Posters map[string]commands.Poster
	// Connections holds the platform connections' states for /readyz; nil
	// outside serve.
	Connections *Connections

	// templates is the template service newRouter built; demo waits on it
	// for runs still being followed when its input ends.
	templates *scaffolder.Service
	// view is the read model the router answers from, set by newRouter.
	view *view.View
}

// catalogChanged makes the read model look at the store on its next read
// (after a sync of this process changed the catalog).
func (a *App) catalogChanged() {
	if a.view != nil {
		a.view.Expire()
	}
}

// Part is one long-running piece of serve; it returns when ctx ends.
type Part func(ctx context.Context) error
