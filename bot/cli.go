package bot

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
)

// Env is what a subcommand runs with: its streams, environment and logger.
// Tests build one to run subcommands in-process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	Logger *slog.Logger
	// Terminal reports whether Stdout is an interactive terminal (progress
	// output, tables); false in tests and pipes.
	Terminal bool
	// OnListen, when set, is called with serve's HTTP address once it
	// listens (tests pass 127.0.0.1:0 and read the port here).
	OnListen func(addr string)
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

// subcommands is the table main dispatches on; each lives in cmd_<name>.go.
var subcommands = []subcommand{
	{"serve", "run the bot: HTTP endpoints, chat adapters, scheduled sync and reports", runServe},
	{"demo", "try portalbot locally: bundled example catalog, SQLite, interactive console", runDemo},
	{"sync", "sync catalog sources from Git into the database once", runSync},
	{"ask", "run one chat command and print the answer", runAsk},
	{"report", "compute (and post) the ownership-drift report", runReport},
	{"validate", "validate Backstage descriptor files", runValidate},
	{"migrate", "apply database migrations", runMigrate},
	{"export", "print every stored entity in Backstage's API shape", runExport},
	{"bench", "generate a synthetic catalog and measure sync, commands and reports", runBench},
}

// Exit codes shared by all subcommands.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// Main runs the portalbot command line and returns the process exit code.
func Main(ctx context.Context, args []string, env *Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, sc := range subcommands {
		if sc.name == args[0] {
			return sc.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "portalbot: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "portalbot answers questions about a Backstage catalog in Slack, Discord and a local console.")
	fmt.Fprintln(w, "\nUsage: portalbot <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(subcommands))
	for _, sc := range subcommands {
		names = append(names, fmt.Sprintf("  %-9s %s", sc.name, sc.summary))
	}
	sort.Strings(names)
	fmt.Fprintln(w, strings.Join(names, "\n"))
	fmt.Fprintln(w, "\nRun 'portalbot <command> --help' for a command's flags. Start with 'portalbot demo'.")
}

// newFlagSet returns a flag set whose --help prints the summary, the usage
// line and the flags, to env.Stdout.
func newFlagSet(env *Env, name, usageLine, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: portalbot %s\n\n%s\n", usageLine, summary)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; it returns (code, true) when the caller should
// exit: ExitOK after --help, ExitUsage on a bad flag.
func parseFlags(fs *flag.FlagSet, env *Env, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, true
		}
		return ExitUsage, true
	}
	return 0, false
}

// notBuilt is the body of subcommands whose issue has not landed yet.
func notBuilt(env *Env, name, usageLine, summary string, args []string) int {
	fs := newFlagSet(env, name, usageLine, summary)
	fs.SetOutput(env.Stdout)
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	fmt.Fprintf(env.Stderr, "portalbot %s: not built yet\n", name)
	return ExitUsage
}
