package discord

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/render")

func fixedStash() *stash {
	return newStash(func() time.Time { return time.Unix(1_760_000_000, 0) }, 100)
}

var renderCases = []struct {
	name string
	r    commands.Reply
}{
	{"text", commands.Reply{Text: "No entity *payments*; did you mean `payments-api`?"}},
	{"owner", commands.Reply{
		Title: "payments-api",
		Text:  "Takes card payments.\n# not a heading\n> not a quote",
		Fields: []commands.Field{
			{Name: "Owner", Value: "team-payments", URL: "https://portal.example.com/catalog/default/group/team-payments"},
			{Name: "Lifecycle", Value: "production"},
			{Name: "Email", Value: "payments@example.com"},
		},
		Links:   []commands.Link{{Text: "Runbook [prod]", URL: "https://wiki.example.com/runbook_(payments)"}, {Text: "bad", URL: "javascript:alert(1)"}},
		Buttons: []commands.Button{{Text: "Docs", URL: "https://portal.example.com/docs/default/component/payments-api"}, {Text: "Dependencies", Action: "run", Value: "deps component:default/payments-api", Style: "primary"}},
	}},
	{"templates", commands.Reply{
		Title: "Templates",
		Sections: []commands.Section{
			{Title: "Go service", Text: "A Go HTTP service with CI.", Fields: []commands.Field{{Name: "Tags", Value: "go, recommended"}}, Buttons: []commands.Button{{Text: "Launch", Action: "template.launch", Value: "template:default/go-service", Style: "primary"}}},
			{Title: "Docs site", Text: "TechDocs site.", Buttons: []commands.Button{{Text: "Launch", Action: "template.launch", Value: "template:default/docs-site"}}},
		},
		Selects:   []commands.Select{{Action: "team.pick", Placeholder: "Pick a team", Options: []commands.Option{{Label: "Payments", Value: "group:default/team-payments", Hint: "3 members"}}}},
		InChannel: true,
	}},
	{"field-errors", commands.Reply{FieldErrors: map[string]string{"name": "must match ^[a-z0-9-]+$", "owner": "no such group"}}},
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range renderCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.MarshalIndent(message(tt.r, fixedStash()), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "render", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
				t.Errorf("message(%s) differs from %s (go test -update rewrites it):\n%s", tt.name, path, got)
			}
		})
	}
}

// checkMessage fails the test for any Discord limit m breaks.
func checkMessage(t *testing.T, where string, m *discordgo.MessageSend) {
	t.Helper()
	if n := utf8.RuneCountInString(m.Content); n > maxContent {
		t.Errorf("%s: content of %d characters", where, n)
	}
	if len(m.Embeds) > maxEmbedsPerMsg {
		t.Errorf("%s: %d embeds", where, len(m.Embeds))
	}
	total := 0
	for _, e := range m.Embeds {
		total += embedSize(e)
		if n := utf8.RuneCountInString(e.Description); n > maxEmbedDescription {
			t.Errorf("%s: embed description of %d characters", where, n)
		}
		if n := utf8.RuneCountInString(e.Title); n > maxEmbedTitle {
			t.Errorf("%s: embed title of %d characters", where, n)
		}
		if len(e.Fields) > maxEmbedFields {
			t.Errorf("%s: %d fields", where, len(e.Fields))
		}
		for _, f := range e.Fields {
			if utf8.RuneCountInString(f.Name) > maxFieldName || utf8.RuneCountInString(f.Value) > maxFieldValue || f.Value == "" {
				t.Errorf("%s: field %q out of bounds", where, f.Name)
			}
		}
	}
	if total > maxEmbedTotalChars {
		t.Errorf("%s: embeds total %d characters", where, total)
	}
	if len(m.Components) > maxRows {
		t.Errorf("%s: %d rows", where, len(m.Components))
	}
	for _, row := range m.Components {
		comps := row.(discordgo.ActionsRow).Components
		if len(comps) > maxButtonsPerRow {
			t.Errorf("%s: %d components in a row", where, len(comps))
		}
		for _, c := range comps {
			switch c := c.(type) {
			case discordgo.Button:
				if len(c.CustomID) > maxCustomID || utf8.RuneCountInString(c.Label) > maxButtonLabel {
					t.Errorf("%s: button %q out of bounds", where, c.Label)
				}
			case discordgo.SelectMenu:
				if len(c.Options) > maxSelectOptions || len(c.CustomID) > maxCustomID {
					t.Errorf("%s: select with %d options", where, len(c.Options))
				}
			}
		}
	}
}

func TestRenderStaysWithinLimits(t *testing.T) {
	long := strings.Repeat("The payments team owns this service and all of its dependencies. ", 400) // ~26,000 characters
	var fields []commands.Field
	var buttons []commands.Button
	var opts []commands.Option
	for i := range 60 {
		fields = append(fields, commands.Field{Name: fmt.Sprintf("Field %d", i), Value: strings.Repeat("v", 1500)})
		buttons = append(buttons, commands.Button{Text: strings.Repeat("b", 100), Action: "run", Value: strings.Repeat("x", 200)})
		opts = append(opts, commands.Option{Label: fmt.Sprint("option ", i), Value: fmt.Sprint(i)})
	}
	var sections []commands.Section
	for i := range 30 {
		sections = append(sections, commands.Section{Title: strings.Repeat("t", 300), Text: long[:3000], Fields: fields[:3]})
		_ = i
	}
	tests := []struct {
		name string
		r    commands.Reply
	}{
		{"long text", commands.Reply{Text: long}},
		{"long embed", commands.Reply{Title: strings.Repeat("T", 400), Text: long, Fields: fields, MoreURL: "https://portal.example.com/x"}},
		{"many components", commands.Reply{Text: "x", Buttons: buttons, Selects: []commands.Select{{Action: "a", Options: opts}, {Action: "b"}, {Action: "c"}}}},
		{"many sections", commands.Reply{Title: "Drift", Sections: sections, MoreURL: "https://portal.example.com/drift"}},
		{"escape at a cut", commands.Reply{Text: strings.Repeat("a", 1999) + "*" + strings.Repeat("b", 10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := fixedStash()
			msgs := message(tt.r, st)
			if len(msgs) == 0 || len(msgs) > maxMessages+1 {
				t.Fatalf("message(%s) gave %d messages", tt.name, len(msgs))
			}
			for i, m := range msgs {
				checkMessage(t, fmt.Sprintf("%s message %d", tt.name, i), m)
				if i < len(msgs)-1 && len(m.Components) > 0 {
					t.Errorf("%s: components on message %d of %d, want them on the last", tt.name, i, len(msgs))
				}
				if strings.HasSuffix(m.Content, `\`) && !strings.HasSuffix(m.Content, `\\`) {
					t.Errorf("%s: message %d ends with a lone escape", tt.name, i)
				}
			}
			// Oversized button ids are stashed and come back whole.
			for _, row := range msgs[len(msgs)-1].Components {
				for _, c := range row.(discordgo.ActionsRow).Components {
					if b, ok := c.(discordgo.Button); ok && b.CustomID != "" {
						got, ok := st.decode(b.CustomID)
						if !ok || got.action != "run" || got.value != strings.Repeat("x", 200) {
							t.Errorf("decode(%q) = %+v, %v, want the stashed action back", b.CustomID, got, ok)
						}
					}
				}
			}
		})
	}
}

func TestEscapeKeepsTextLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"payments-api", "payments-api"},
		{"**bold** _it_ `code` ~~s~~ ||spoiler||", `\*\*bold\*\* \_it\_ \` + "`code\\`" + ` \~\~s\~\~ \|\|spoiler\|\|`},
		{"<@123> and <#456>", `\<@123> and \<#456>`},
		{"# heading\n> quote\n- item", "\\# heading\n\\> quote\n\\- item"},
		{"[click](https://evil.example)", `\[click\](https://evil.example)`},
	}
	for _, tt := range tests {
		if got := escape(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
