package bot

import "context"

func runAsk(ctx context.Context, env *Env, args []string) int {
	return notBuilt(env, "ask", "ask [flags]", "Not built yet.", args)
}
