// Command portalbot is a ChatOps bot for a Backstage-style developer portal.
// See README.md.
package main

import (
	"context"
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
	var h slog.Handler
	opts := &slog.HandlerOptions{Level: logLevel()}
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

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("PORTALBOT_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
