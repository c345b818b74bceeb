package bot

import "context"

// syncParts builds serve's sync parts and registers their routes on a.Mux.
func syncParts(ctx context.Context, a *App) ([]Part, error) { return nil, nil }
