package bot

import (
	"context"
	"fmt"

	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// dbURL picks the database for a one-shot subcommand: the --db flag, else
// PORTALBOT_DB, else the default (sqlite:portalbot.db).
func dbURL(env *Env, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := env.getenv("PORTALBOT_DB"); v != "" {
		return v
	}
	return DefaultConfig().DB
}

// openStore opens the database named by the --db flag value (see dbURL)
// and applies pending migrations. The caller closes the store.
func openStore(ctx context.Context, env *Env, flagValue string) (*sqlstore.Store, error) {
	url := dbURL(env, flagValue)
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactDB(url), err)
	}
	return st, nil
}
