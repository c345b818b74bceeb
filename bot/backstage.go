package bot

import (
	"context"
	"log/slog"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/ingest/portal"
)

// Backstage sources (sources[].backstage, sync --backstage) mirror a
// Backstage backend's catalog API through package portal. The scheduler,
// leases, metrics and the sync command treat them as Git sources: each is
// an ingest.Source naming it, synced by a function that calls the portal
// syncer.

// newPortalSyncer returns the syncer of Backstage sources; logger may be nil.
func newPortalSyncer(store catalog.Store, env *Env, logger *slog.Logger) *portal.Syncer {
	return portal.New(store, portal.Options{Logger: logger, Getenv: env.getenv})
}

// sourceJob is one source of either kind, as the scheduler and the sync
// command run it.
type sourceJob struct {
	src  ingest.Source // for a Backstage source, Name and Repo (the URL) only
	sync func(ctx context.Context, src ingest.Source) (ingest.Result, error)
}

// sourceJobs returns a job per configured source, in config order.
func (c *Config) sourceJobs(git *ingest.Syncer, ps *portal.Syncer) []sourceJob {
	var out []sourceJob
	for _, s := range c.Sources {
		if s.Backstage != "" {
			out = append(out, portalJob(ps, portal.Source{Name: s.Name, URL: s.Backstage, TokenEnv: s.TokenEnv}))
			continue
		}
		out = append(out, sourceJob{src: ingest.Source{Name: s.Name, Repo: s.Repo, Branch: s.Branch, Root: s.Root,
			TokenEnv: s.TokenEnv, SSHKeyFile: s.SSHKeyFile}, sync: git.Sync})
	}
	return out
}

func portalJob(ps *portal.Syncer, src portal.Source) sourceJob {
	return sourceJob{
		src:  ingest.Source{Name: src.SourceName(), Repo: src.URL},
		sync: func(ctx context.Context, _ ingest.Source) (ingest.Result, error) { return ps.Sync(ctx, src) },
	}
}
