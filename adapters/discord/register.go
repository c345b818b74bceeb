package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// CommandName is the one application command portalbot registers; every
// router command is a subcommand of it: /portal owner entity:payments-api.
const CommandName = "portal"

// nameRE is Discord's rule for command and option names in their
// lower-case form: 1–32 letters, digits, '-' or '_' (PLATFORM.md).
var nameRE = regexp.MustCompile(`^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$`)

// applicationCommand builds /portal from the engine's commands: one
// subcommand per command, one string option per argument, autocomplete
// where the argument names a Suggest source.
func applicationCommand(cmds []commands.Command) *discordgo.ApplicationCommand {
	ac := &discordgo.ApplicationCommand{
		Type:        discordgo.ChatApplicationCommand,
		Name:        CommandName,
		Description: "Ask the developer portal: owners, docs, teams, templates",
		Options:     []*discordgo.ApplicationCommandOption{},
	}
	for _, c := range cmds {
		sub := &discordgo.ApplicationCommandOption{
			Type:        discordgo.ApplicationCommandOptionSubCommand,
			Name:        strings.ToLower(c.Name),
			Description: truncate(orDash(c.Summary), maxDescription),
			Options:     []*discordgo.ApplicationCommandOption{},
		}
		// Discord wants required options before optional ones.
		for _, required := range []bool{true, false} {
			for _, a := range c.Args {
				if a.Required != required {
					continue
				}
				sub.Options = append(sub.Options, &discordgo.ApplicationCommandOption{
					Type:         discordgo.ApplicationCommandOptionString,
					Name:         strings.ToLower(a.Name),
					Description:  truncate(orDash(a.Description), maxDescription),
					Required:     a.Required,
					Autocomplete: a.Complete != "",
				})
			}
		}
		ac.Options = append(ac.Options, sub)
	}
	return ac
}

// validateCommand checks ac against Discord's documented limits, so a bad
// registration fails at start with a readable error rather than a 400.
func validateCommand(ac *discordgo.ApplicationCommand) error {
	if err := checkNameDesc("command", ac.Name, ac.Description); err != nil {
		return err
	}
	if len(ac.Options) > maxOptions {
		return fmt.Errorf("command %s: %d subcommands, Discord allows %d", ac.Name, len(ac.Options), maxOptions)
	}
	seen := map[string]bool{}
	for _, sub := range ac.Options {
		if err := checkNameDesc("subcommand", sub.Name, sub.Description); err != nil {
			return err
		}
		if seen[sub.Name] {
			return fmt.Errorf("subcommand %s: registered twice", sub.Name)
		}
		seen[sub.Name] = true
		if len(sub.Options) > maxOptions {
			return fmt.Errorf("subcommand %s: %d options, Discord allows %d", sub.Name, len(sub.Options), maxOptions)
		}
		optSeen := map[string]bool{}
		optional := false
		for _, o := range sub.Options {
			if err := checkNameDesc("option "+sub.Name+"."+o.Name, o.Name, o.Description); err != nil {
				return err
			}
			if optSeen[o.Name] {
				return fmt.Errorf("option %s.%s: declared twice", sub.Name, o.Name)
			}
			optSeen[o.Name] = true
			if o.Required && optional {
				return fmt.Errorf("option %s.%s: required options must come first", sub.Name, o.Name)
			}
			optional = optional || !o.Required
		}
	}
	return nil
}

func checkNameDesc(what, name, desc string) error {
	if !nameRE.MatchString(name) || utf8.RuneCountInString(name) > maxNameLen {
		return fmt.Errorf("%s %q: want 1–%d lower-case letters, digits, - or _", what, name, maxNameLen)
	}
	if n := utf8.RuneCountInString(desc); n < 1 || n > maxDescription {
		return fmt.Errorf("%s %s: description of %d characters, want 1–%d", what, name, n, maxDescription)
	}
	return nil
}

// Register overwrites the application's commands with /portal, in the
// configured guild when there is one (instant, for development), globally
// otherwise. Bulk overwrite makes it idempotent: every replica may call
// it at start.
func (a *Adapter) Register(ctx context.Context) error {
	ac := applicationCommand(a.engine.Commands())
	if err := validateCommand(ac); err != nil {
		return fmt.Errorf("discord register: %w", &permanentError{err})
	}
	_, err := a.rest.ApplicationCommandBulkOverwrite(a.appID, a.guildID, []*discordgo.ApplicationCommand{ac}, discordgo.WithContext(ctx))
	if err != nil {
		a.apiError("application_command_bulk_overwrite")
		return fmt.Errorf("discord register: %w", scrub(err))
	}
	a.logger.InfoContext(ctx, "discord commands registered", "subcommands", len(ac.Options), "guild", a.guildID)
	return nil
}

// maxRegisterBackoff caps the wait between registration attempts.
const maxRegisterBackoff = 5 * time.Minute

// permanentError is a registration failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RunRegister registers /portal (Register), retrying while Discord is
// unreachable or failing (network errors, 5xx, 429) with a backoff that
// starts at Params.RegisterBackoff and doubles up to 5 minutes; each
// failure is logged with its reason and the next retry. A failure that
// retrying cannot fix (a command Discord would refuse, or a 4xx such as
// a wrong token) is returned at once. It returns nil once registered or
// when ctx ends.
func (a *Adapter) RunRegister(ctx context.Context) error {
	backoff := a.registerBackoff
	for attempt := 1; ; attempt++ {
		err := a.Register(ctx)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		if !retryable(err) {
			return err
		}
		a.logger.WarnContext(ctx, "discord command registration failed; retrying", "err", err, "attempt", attempt, "retry_in_s", backoff.Seconds())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxRegisterBackoff)
	}
}

// retryable reports whether a registration failure may pass by itself.
func retryable(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
		return false
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		c := re.Response.StatusCode
		return c >= 500 || c == http.StatusTooManyRequests || c == http.StatusRequestTimeout
	}
	return true // the network: DNS, refused connections, timeouts
}
