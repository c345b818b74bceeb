// Command portalbot is a ChatOps bot for a Backstage-style developer portal.
// See README.md.
//
// main holds flags, signals and the slog handler only; the wiring is package
// bot's, and no other package imports this one.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/portalbot/portalbot/bot"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tty := term.IsTerminal(int(os.Stdout.Fd()))
	level, err := logLevel(os.Getenv("PORTALBOT_LOG_LEVEL"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "portalbot: %v\n", err)
		os.Exit(bot.ExitUsage)
	}
	var h slog.Handler
	opts := &slog.HandlerOptions{Level: level}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		h = slog.NewTextHandler(os.Stderr, opts)
	} else {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	logger := slog.New(h)
	slog.SetDefault(logger)

	code := bot.Main(ctx, os.Args[1:], &bot.Env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Logger:   logger,
		Terminal: tty,
	})
	stop()
	os.Exit(code)
}

// logLevel parses PORTALBOT_LOG_LEVEL's value v: empty is info; a value
// slog does not know is refused rather than quietly taken as info.
func logLevel(v string) (slog.Level, error) {
	var l slog.Level
	if v == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return 0, fmt.Errorf("PORTALBOT_LOG_LEVEL %q: want debug, info, warn or error", v)
	}
	return l, nil
}
