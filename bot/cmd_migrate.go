package bot

import (
	"context"
	"fmt"

	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/migrations"
)

const migrateSummary = `Apply the database migrations that the database has not recorded yet, in
order, each in its own transaction, and print each one applied. Every other
command also applies them when it opens the database; this one does only
that, for deployments that migrate before rolling out.

The database is --db, else env PORTALBOT_DB, else the db key of the file in
env PORTALBOT_CONFIG, else sqlite:portalbot.db. Several processes may run
this at once against one Postgres database: an advisory lock lets one apply
each migration and the others find it done.

Exit status: 0 when the database is up to date, 1 when it cannot be opened
or a migration fails, 2 on usage errors.`

func runMigrate(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "migrate", "migrate [--db URL]", migrateSummary)
	fs.SetOutput(env.Stdout)
	dbFlag := fs.String("db", "", "database URL: postgres://... or sqlite:PATH")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "portalbot migrate: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	cfg, err := LoadConfig(env.getenv("PORTALBOT_CONFIG"), env.getenv)
	if *dbFlag != "" {
		cfg.DB = *dbFlag
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot migrate: %v\n", err)
		return ExitUsage
	}
	st, err := sqlstore.OpenNoMigrate(ctx, cfg.DB)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot migrate: %v\n", err)
		return ExitFail
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	for _, v := range applied {
		fmt.Fprintf(env.Stdout, "applied %s\n", v)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot migrate: %v\n", err)
		return ExitFail
	}
	files, err := migrations.Files(st.Dialect())
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot migrate: %v\n", err)
		return ExitFail
	}
	fmt.Fprintf(env.Stdout, "%s is up to date: %d %s migrations, %d applied now\n",
		sqlstore.Redact(cfg.DB), len(files), st.Dialect(), len(applied))
	return ExitOK
}
