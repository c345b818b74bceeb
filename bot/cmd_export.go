package bot

import "context"

func runExport(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "export", "export [flags]", "Not built yet.", args)
}
