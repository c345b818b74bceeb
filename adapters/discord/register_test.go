package discord_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/portalbot/portalbot/adapters/discord"
	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/commands"
)

// appCommand is the registration payload as Discord reads it.
type appCommand struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Type        int         `json:"type"`
	Options     []appOption `json:"options"`
}

type appOption struct {
	Type         int         `json:"type"`
	Name         string      `json:"name"`
	Description  string      `json:"description"`
	Required     bool        `json:"required"`
	Autocomplete bool        `json:"autocomplete"`
	Options      []appOption `json:"options"`
}

// Discord's documented limits (PLATFORM.md): names 1–32 lower-case
// characters, descriptions 1–100, at most 25 options.
var discordName = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

func checkLimits(t *testing.T, where string, name, desc string, opts int) {
	t.Helper()
	if !discordName.MatchString(name) {
		t.Errorf("%s: name %q breaks Discord's naming rule", where, name)
	}
	if n := utf8.RuneCountInString(desc); n < 1 || n > 100 {
		t.Errorf("%s: description of %d characters, want 1–100", where, n)
	}
	if opts > 25 {
		t.Errorf("%s: %d options, want at most 25", where, opts)
	}
}

// noStore satisfies catalog.Store for commands.New; registration only
// reads the router's command list, so no method is ever called.
type noStore struct{ catalog.Store }

func TestRegisterPortalCommand(t *testing.T) {
	tests := []struct {
		name   string
		engine discord.Engine
		guild  string
		path   string
	}{
		{"engine commands, guild", commands.New(commands.Params{Store: noStore{}, Logger: slog.New(slog.DiscardHandler)}), "777", "/api/v9/applications/424242/guilds/777/commands"},
		{"test commands, global", nil, "", "/api/v9/applications/424242/commands"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(p *discord.Params) {
				if tt.engine != nil {
					p.Engine = tt.engine
				}
				p.GuildID = tt.guild
			})
			engine := tt.engine
			if engine == nil {
				engine = h.engine
			}
			if err := h.a.Register(context.Background()); err != nil {
				t.Fatalf("Register: %v", err)
			}
			c := h.fake.next(t)
			if c.Method != http.MethodPut || c.Path != tt.path {
				t.Fatalf("call = %s %s, want PUT %s (bulk overwrite)", c.Method, c.Path, tt.path)
			}
			var cmds []appCommand
			if err := json.Unmarshal(c.Raw, &cmds); err != nil {
				t.Fatalf("payload %s: %v", c.Raw, err)
			}
			if len(cmds) != 1 || cmds[0].Name != "portal" || cmds[0].Type != 1 {
				t.Fatalf("payload %s, want one chat command named portal", c.Raw)
			}
			portal := cmds[0]
			checkLimits(t, "/portal", portal.Name, portal.Description, len(portal.Options))
			want := engine.Commands()
			if len(portal.Options) != len(want) {
				t.Fatalf("%d subcommands, want %d (one per command)", len(portal.Options), len(want))
			}
			for i, sub := range portal.Options {
				where := "/portal " + sub.Name
				checkLimits(t, where, sub.Name, sub.Description, len(sub.Options))
				if sub.Type != 1 || sub.Name != want[i].Name {
					t.Errorf("%s: type %d, want subcommand %q", where, sub.Type, want[i].Name)
				}
				for _, o := range sub.Options {
					checkLimits(t, where+" "+o.Name, o.Name, o.Description, len(o.Options))
					if o.Name == "entity" && !o.Autocomplete {
						t.Errorf("%s: entity option without autocomplete", where)
					}
				}
			}
		})
	}
}

func TestRegisterRefusesBadCommands(t *testing.T) {
	tests := []struct {
		name string
		cmd  commands.Command
	}{
		{"upper-case arg", commands.Command{Name: "owner", Summary: "x", Args: []commands.Arg{{Name: "Entity Name", Description: "x"}}}},
		{"long name", commands.Command{Name: "a-very-long-command-name-beyond-32", Summary: "x"}},
		{"space in name", commands.Command{Name: "who owns", Summary: "x"}},
		{"26 args", commands.Command{Name: "many", Summary: "x", Args: func() []commands.Arg {
			var as []commands.Arg
			for i := range 26 {
				as = append(as, commands.Arg{Name: "a" + string(rune('a'+i)), Description: "x"})
			}
			return as
		}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := commands.NewRouter(slog.New(slog.DiscardHandler))
			tt.cmd.Handler = func(context.Context, *commands.Request) (commands.Reply, error) { return commands.Reply{}, nil }
			r.Handle(tt.cmd)
			h := newHarness(t, func(p *discord.Params) { p.Engine = r })
			if err := h.a.Register(context.Background()); err == nil {
				t.Errorf("Register(%s) = nil, want a limits error", tt.name)
			}
			h.fake.none(t)
		})
	}
}
