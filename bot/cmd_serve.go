package bot

import "context"

func runServe(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "serve", "serve [flags]", "Not built yet.", args)
}
