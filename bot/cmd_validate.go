package bot

import "context"

func runValidate(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "validate", "validate [flags]", "Not built yet.", args)
}
