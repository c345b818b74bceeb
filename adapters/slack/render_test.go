package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got, as indented JSON, with testdata/golden/name.json.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	b := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from %s (run go test -update to accept):\n%s", name, path, b)
	}
}

func ownerReply() commands.Reply {
	return commands.Reply{
		Title: "payments-api is owned by Payments Team",
		Text:  "Owner: group:default/payments <payments@example.com> & friends",
		Fields: []commands.Field{
			{Name: "Owner", Value: "Payments Team", URL: "https://portal.example.com/catalog/default/group/payments"},
			{Name: "System", Value: "checkout"},
			{Name: "Channel", Value: "#payments"},
			{Name: "Empty", Value: ""},
		},
		Links: []commands.Link{
			{Text: "Portal page", URL: "https://portal.example.com/catalog/default/component/payments-api"},
			{Text: "Source", URL: "https://github.com/acme/payments-api/tree/main/"},
			{Text: "Not a URL", URL: "javascript:alert(1)"},
		},
		Buttons: []commands.Button{
			{Text: "Docs", Action: "docs", Value: "component:default/payments-api", Style: "primary"},
			{Text: "Deps", Action: "docs", Value: "component:default/payments-api/deps"},
			{Text: "Open in portal", URL: "https://portal.example.com/catalog/default/component/payments-api"},
		},
		Selects: []commands.Select{{
			Action: "pick", Placeholder: "Pick one",
			Options: []commands.Option{{Label: "A", Value: "a", Hint: "first"}, {Value: "b"}},
		}},
		MoreURL: "https://portal.example.com/catalog/default/component/payments-api",
	}
}

func TestRenderGolden(t *testing.T) {
	many := commands.Reply{Title: "Drift report", MoreURL: "https://portal.example.com/drift"}
	for i := 0; i < 40; i++ {
		many.Sections = append(many.Sections, commands.Section{
			Title: "team-" + strings.Repeat("x", i%3),
			Text:  "unknown-owner: component:default/svc",
		})
	}
	tests := []struct {
		name  string
		reply commands.Reply
		share string
	}{
		{"owner", ownerReply(), "owner payments-api"},
		{"in_channel", commands.Reply{Text: "Shared <!channel>", InChannel: true}, "owner x"},
		{"truncated", many, ""},
		{"form_intro_only", commands.Reply{Text: "plain *not bold* _x_"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, "message_"+tt.name, messageBlocks(tt.reply, tt.share))
		})
	}
}

func TestMessageBlocksLimits(t *testing.T) {
	long := strings.Repeat("word <&> ", 2000) // 18,000 bytes before escaping
	var fields []commands.Field
	var buttons []commands.Button
	var opts []commands.Option
	for i := 0; i < 130; i++ {
		s := strings.Repeat("f", i)
		fields = append(fields, commands.Field{Name: "n" + s, Value: strings.Repeat("v", 2500)})
		buttons = append(buttons, commands.Button{Text: strings.Repeat("b", 100), Action: "act", Value: s})
		opts = append(opts, commands.Option{Label: strings.Repeat("o", 100), Value: "v" + s})
	}
	r := commands.Reply{Title: strings.Repeat("T", 200), Text: long, Fields: fields[:25], Buttons: buttons[:60],
		Selects: []commands.Select{{Action: "s", Options: opts}}}
	bs := messageBlocks(r, "owner x")
	if len(bs) > maxMessageBlocks {
		t.Fatalf("messageBlocks() has %d blocks, want <= %d", len(bs), maxMessageBlocks)
	}
	seenIDs := map[string]bool{}
	var textLen int
	for _, b := range bs {
		switch b := b.(type) {
		case *slackgo.HeaderBlock:
			if len(b.Text.Text) > maxHeaderText {
				t.Errorf("header is %d bytes, want <= %d", len(b.Text.Text), maxHeaderText)
			}
		case *slackgo.SectionBlock:
			if b.Text != nil {
				textLen += len(b.Text.Text)
				if len(b.Text.Text) > maxSectionText {
					t.Errorf("section text is %d bytes, want <= %d", len(b.Text.Text), maxSectionText)
				}
				if strings.Contains(b.Text.Text, "<&>") {
					t.Errorf("section text %.40q is not escaped", b.Text.Text)
				}
			}
			if len(b.Fields) > maxSectionFields {
				t.Errorf("section has %d fields, want <= %d", len(b.Fields), maxSectionFields)
			}
			for _, f := range b.Fields {
				if len(f.Text) > maxFieldText {
					t.Errorf("field is %d bytes, want <= %d", len(f.Text), maxFieldText)
				}
			}
		case *slackgo.ActionBlock:
			if n := len(b.Elements.ElementSet); n > maxActionElements {
				t.Errorf("actions block has %d elements, want <= %d", n, maxActionElements)
			}
			for _, e := range b.Elements.ElementSet {
				switch e := e.(type) {
				case *slackgo.ButtonBlockElement:
					if seenIDs[e.ActionID] {
						t.Errorf("action id %q used twice", e.ActionID)
					}
					seenIDs[e.ActionID] = true
					if len(e.Text.Text) > maxButtonText {
						t.Errorf("button text is %d bytes", len(e.Text.Text))
					}
				case *slackgo.SelectBlockElement:
					if len(e.Options) > maxSelectOptions {
						t.Errorf("select has %d options, want <= %d", len(e.Options), maxSelectOptions)
					}
				}
			}
		}
	}
	// The text survives whole (split, not cut) when it fits in the block budget.
	if want := len(escape(long)); textLen < want-100 {
		t.Errorf("rendered text is %d bytes, want about %d (split, not dropped)", textLen, want)
	}
	if !seenIDs[actionShare] {
		t.Errorf("messageBlocks() lacks the share button")
	}
}

func TestSplitBlocksKeepsEverything(t *testing.T) {
	r := commands.Reply{Title: "Drift"}
	for i := 0; i < 120; i++ {
		r.Sections = append(r.Sections, commands.Section{Title: "team", Text: strings.Repeat("finding\n", 10)})
	}
	parts := splitBlocks(r)
	total := 0
	for i, p := range parts {
		if len(p) > maxMessageBlocks {
			t.Errorf("splitBlocks() part %d has %d blocks, want <= %d", i, len(p), maxMessageBlocks)
		}
		total += len(p)
	}
	if want := len(contentBlocks(r)); total != want {
		t.Errorf("splitBlocks() has %d blocks in all, want %d", total, want)
	}
	if len(parts) != 5 {
		t.Errorf("splitBlocks() = %d parts, want 5", len(parts))
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		in  string
		max int
	}{
		{strings.Repeat("a", 10), 3},
		{strings.Repeat("ab\n", 10), 7},
		{strings.Repeat("é", 10), 5},
		{strings.Repeat("x&amp;", 10), 8},
		{"short", 10},
	}
	for _, tt := range tests {
		parts := splitText(tt.in, tt.max)
		joined := strings.Join(parts, "")
		if strings.ReplaceAll(joined, "\n", "") != strings.ReplaceAll(tt.in, "\n", "") {
			t.Errorf("splitText(%q, %d) = %q, lost content", tt.in, tt.max, parts)
		}
		for _, p := range parts {
			if len(p) > tt.max {
				t.Errorf("splitText(%q, %d) has part %q over the limit", tt.in, tt.max, p)
			}
			if strings.Count(p, "&") != strings.Count(p, ";") {
				t.Errorf("splitText(%q, %d) cut an entity: %q", tt.in, tt.max, p)
			}
		}
	}
}

func TestLinkEscaping(t *testing.T) {
	tests := []struct{ text, url, want string }{
		{"docs", "https://x.example/a?b=1&c=2", "<https://x.example/a?b=1&amp;c=2|docs>"},
		{"<!channel>", "https://x.example/", "<https://x.example/|&lt;!channel&gt;>"},
		{"evil", "https://x.example/a|b>c", "<https://x.example/a%7Cb%3Ec|evil>"},
		{"js", "javascript:alert(1)", "js"},
		{"rel", "/catalog/x", "rel"},
	}
	for _, tt := range tests {
		if got := link(tt.text, tt.url); got != tt.want {
			t.Errorf("link(%q, %q) = %q, want %q", tt.text, tt.url, got, tt.want)
		}
	}
	if got := actionID("launch:tmpl#12"); got != "launch:tmpl" {
		t.Errorf("actionID(launch:tmpl#12) = %q", got)
	}
	if got := actionID("a#b"); got != "a#b" {
		t.Errorf("actionID(a#b) = %q", got)
	}
}

func TestModalGolden(t *testing.T) {
	for step := 1; step <= 2; step++ {
		v, err := modalView(*testForm(step), viewMeta{Channel: "C1", Thread: "1700000000.000001", ResponseURL: "https://hooks.slack.com/commands/T1/1/x"})
		if err != nil {
			t.Fatalf("modalView(step %d): %v", step, err)
		}
		golden(t, "modal_step"+strconv.Itoa(step), v)
	}
}

func TestModalLimits(t *testing.T) {
	f := commands.Form{Action: "a", State: strings.Repeat("s", 2990)}
	v, err := modalView(f, viewMeta{ResponseURL: "https://hooks.slack.com/commands/T1/1/x", Channel: "C1"})
	if err != nil {
		t.Fatalf("modalView with 2,990 bytes of state: %v", err)
	}
	if len(v.PrivateMetadata) > maxPrivateMetadata || decodeMeta(v.PrivateMetadata).State != f.State {
		t.Errorf("private_metadata is %d bytes or lost the state", len(v.PrivateMetadata))
	}
	f.State = strings.Repeat("s", 3000)
	if _, err := modalView(f, viewMeta{}); err == nil {
		t.Errorf("modalView with 3,000 bytes of state = nil error, want one")
	}
	f = commands.Form{Action: "a"}
	for i := 0; i < 101; i++ {
		f.Inputs = append(f.Inputs, commands.Input{Name: "in" + strconv.Itoa(i)})
	}
	if _, err := modalView(f, viewMeta{}); err == nil {
		t.Errorf("modalView with 101 inputs = nil error, want one")
	}
	f.Inputs = []commands.Input{{Name: "x"}, {Name: "x"}}
	if _, err := modalView(f, viewMeta{}); err == nil {
		t.Errorf("modalView with a repeated input name = nil error, want one")
	}
}
