package bot

import "context"

func runMigrate(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "migrate", "migrate [flags]", "Not built yet.", args)
}
