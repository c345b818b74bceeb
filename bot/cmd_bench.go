package bot

import "context"

func runBench(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "bench", "bench [flags]", "Not built yet.", args)
}
