package bot

import "context"

func runDemo(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "demo", "demo [flags]", "Not built yet.", args)
}
