package bot

import "context"

// discordParts builds serve's discord parts and registers their routes on a.Mux.
func discordParts(ctx context.Context, a *App) ([]Part, error) { return nil, nil }
