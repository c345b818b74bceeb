package bot

import "context"

func runReport(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "report", "report [flags]", "Not built yet.", args)
}
