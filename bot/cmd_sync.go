package bot

import "context"

func runSync(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "sync", "sync [flags]", "Not built yet.", args)
}
