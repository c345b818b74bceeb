package bot

import "context"

// reportsParts builds serve's reports parts and registers their routes on a.Mux.
func reportsParts(ctx context.Context, a *App) ([]Part, error) { return nil, nil }
