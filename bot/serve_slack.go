package bot

import "context"

// slackParts builds serve's slack parts and registers their routes on a.Mux.
func slackParts(ctx context.Context, a *App) ([]Part, error) { return nil, nil }
