package console_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/adapters/console"
	"github.com/portalbot/portalbot/commands"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Render(%s) =\n%s\nwant (%s):\n%s", name, got, p, want)
	}
}

var replies = map[string]commands.Reply{
	"owner": {
		Title: "payments-api is owned by Payments Team",
		Fields: []commands.Field{
			{Name: "Owner", Value: "Payments Team (group:payments)", URL: "https://portal.example.com/catalog/default/group/payments"},
			{Name: "Email", Value: "payments@example.com"},
			{Name: "Members", Value: "Alice Moreau, Bob Okafor, +3 more"},
		},
		Links: []commands.Link{
			{Text: "Portal page", URL: "https://portal.example.com/catalog/default/component/payments-api"},
			{URL: "https://git.example.com/acme/payments-api/"},
		},
		Buttons: []commands.Button{
			{Text: "Docs", Action: "run", Value: "docs component:default/payments-api"},
			{Text: "Open in the portal", URL: "https://portal.example.com/catalog/default/component/payments-api"},
		},
		MoreURL: "https://portal.example.com/catalog/default/component/payments-api",
	},
	"templates": {
		Title: "Software templates",
		Text:  "Two templates you may launch.",
		Sections: []commands.Section{
			{Title: "Go service", Text: "A Go HTTP service.\nWith CI.", Fields: []commands.Field{{Name: "Owner", Value: "platform"}},
				Buttons: []commands.Button{{Text: "Launch", Action: commands.ActionTemplateLaunch, Value: "template:default/go-service", Style: "primary"}}},
			{Title: "Docs site", Buttons: []commands.Button{{Text: "Launch", Action: commands.ActionTemplateLaunch, Value: "template:default/docs-site"}}},
		},
		Selects: []commands.Select{{Action: "pick", Placeholder: "Or pick a tag", Options: []commands.Option{{Label: "go", Value: "go", Hint: "1 template"}, {Label: "docs", Value: "docs"}}}},
		MoreURL: "https://portal.example.com/create",
	},
	"form": {
		Form: &commands.Form{
			Action: "template.submit", Title: "Go service", Step: 1, Steps: 2, Intro: "About the service",
			Inputs: []commands.Input{
				{Name: "name", Label: "Name", Kind: commands.InputText, Required: true, Hint: "lower case with dashes"},
				{Name: "port", Label: "HTTP port", Kind: commands.InputInteger, Default: []string{"8080"}},
				{Name: "db", Label: "Needs a database", Kind: commands.InputCheckbox},
				{Name: "tags", Label: "Tags", Kind: commands.InputMultiSelect, Options: []commands.Option{{Label: "go", Value: "go"}}},
			},
		},
	},
	"errors": {Text: "Please check the form.", FieldErrors: map[string]string{"name": "already taken", "port": "must be at least 1024"}},
	"empty":  {},
}

func TestRender(t *testing.T) {
	for name, r := range replies {
		t.Run(name, func(t *testing.T) { golden(t, name, console.Render(r)) })
	}
}

// engine is a scripted command engine: ServeFn answers every request and
// records it.
type engine struct {
	ServeFn   func(req *commands.Request) commands.Reply
	SuggestFn func(source, prefix string) []commands.Option
	got       []*commands.Request
}

func (e *engine) Serve(ctx context.Context, req *commands.Request) commands.Reply {
	e.got = append(e.got, req)
	return e.ServeFn(req)
}

func (e *engine) Suggest(ctx context.Context, source, prefix string, limit int) []commands.Option {
	if e.SuggestFn == nil {
		return nil
	}
	return e.SuggestFn(source, prefix)
}

func TestRunPressesButtons(t *testing.T) {
	e := &engine{ServeFn: func(req *commands.Request) commands.Reply {
		if req.Action != nil {
			return commands.Reply{Text: "pressed " + req.Action.ID + " " + req.Action.Value}
		}
		return commands.Reply{Text: "you said " + req.Text, Buttons: []commands.Button{
			{Text: "Launch", Action: "template.launch", Value: "template:default/go-service"},
			{Text: "Docs", Action: "run", Value: "docs x"},
		}}
	}}
	var out bytes.Buffer
	in := "templates\n1\n\n9\n2\nquit\nnever read\n"
	if err := console.New(e, strings.NewReader(in), &out, console.Options{}).Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	golden(t, "session", out.String())
	if len(e.got) != 4 {
		t.Fatalf("Serve called %d times, want 4 (text, button, out-of-range number as text, button)", len(e.got))
	}
	if a := e.got[1].Action; a == nil || a.ID != "template.launch" || a.Value != "template:default/go-service" {
		t.Errorf("typing 1 sent %+v, want the Launch button's action", a)
	}
	if e.got[2].Text != "9" || e.got[2].Action != nil {
		t.Errorf("typing 9 sent %+v, want it as text (no 9th button)", e.got[2])
	}
	// The banner says to type a button's number: a command button has
	// one like any other, shown before it is pressed.
	if a := e.got[3].Action; a == nil || a.ID != commands.ActionRun || a.Value != "docs x" {
		t.Errorf("typing 2 sent %+v, want the Docs button's run action", a)
	}
	if !strings.Contains(out.String(), "[Docs] → type: 2") {
		t.Errorf("output lacks the Docs button's number:\n%s", out.String())
	}
	if e.got[0].Platform != commands.PlatformConsole || e.got[0].Followup == nil {
		t.Errorf("request = %+v, want platform console with a Followup", e.got[0])
	}
}

func TestRunFillsForm(t *testing.T) {
	form := &commands.Form{
		Action: "template.submit", Title: "Go service", State: "opaque-state",
		Inputs: []commands.Input{
			{Name: "name", Label: "Name", Kind: commands.InputText, Required: true, MinLength: 3},
			{Name: "port", Label: "Port", Kind: commands.InputInteger, Default: []string{"8080"}},
			{Name: "db", Label: "Database", Kind: commands.InputCheckbox},
			{Name: "lang", Label: "Language", Kind: commands.InputSelect, Options: []commands.Option{{Label: "Go", Value: "go"}, {Label: "Rust", Value: "rust"}}},
			{Name: "tags", Label: "Tags", Kind: commands.InputMultiSelect, Options: []commands.Option{{Label: "a", Value: "a"}, {Label: "b", Value: "b"}, {Label: "c", Value: "c"}}},
			{Name: "owner", Label: "Owner", Kind: commands.InputExternalSelect, Source: "group"},
			{Name: "notes", Label: "Notes", Kind: commands.InputText},
		},
	}
	var subs []*commands.Submission
	e := &engine{
		ServeFn: func(req *commands.Request) commands.Reply {
			if req.Action == nil {
				return commands.Reply{Form: form}
			}
			subs = append(subs, req.Action.Form)
			if len(subs) == 1 {
				return commands.Reply{FieldErrors: map[string]string{"name": "is taken"}}
			}
			return commands.Reply{Title: "Launched", Text: "run 42"}
		},
		SuggestFn: func(source, prefix string) []commands.Option {
			var out []commands.Option
			for _, g := range []string{"payments", "platform", "checkout"} {
				if source == "group" && strings.HasPrefix(g, prefix) {
					out = append(out, commands.Option{Label: g, Value: "group:default/" + g})
				}
			}
			return out
		},
	}
	in := strings.Join([]string{
		"create go-service",
		"", "ab", "my-svc", // required, too short, ok
		"http", "", // not an integer, then the default
		"maybe", "y", // not yes/no, then yes
		"3", "rust", // out of range, then by value
		"1, c",   // multi by number and value
		"p", "2", // type-ahead: two matches listed, pick the second
		"",          // optional left empty
		"other-svc", // asked again after the engine's field error
		"quit",
	}, "\n")
	var out bytes.Buffer
	if err := console.New(e, strings.NewReader(in), &out, console.Options{}).Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	golden(t, "form_session", out.String())
	if len(subs) != 2 {
		t.Fatalf("submissions = %d, want 2", len(subs))
	}
	want := map[string][]string{
		"name": {"my-svc"}, "port": {"8080"}, "db": {"true"}, "lang": {"rust"},
		"tags": {"a", "c"}, "owner": {"group:default/platform"},
	}
	if !reflect.DeepEqual(subs[0].Values, want) || subs[0].State != "opaque-state" || subs[0].Key == "" {
		t.Errorf("first submission = %+v, want values %v, the form's state and a key", subs[0], want)
	}
	want["name"] = []string{"other-svc"}
	if !reflect.DeepEqual(subs[1].Values, want) || subs[1].Key == subs[0].Key {
		t.Errorf("second submission = %+v, want values %v and a new key", subs[1], want)
	}
}

func TestRunFormCancelAndEOF(t *testing.T) {
	e := &engine{ServeFn: func(req *commands.Request) commands.Reply {
		if req.Action != nil {
			t.Errorf("a cancelled form was submitted: %+v", req.Action)
		}
		return commands.Reply{Form: &commands.Form{Action: "x", Title: "T", Inputs: []commands.Input{{Name: "a", Required: true}}}}
	}}
	var out bytes.Buffer
	if err := console.New(e, strings.NewReader("create\ncancel\ncreate\n"), &out, console.Options{}).Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out.String(), "Cancelled.") {
		t.Errorf("output lacks the cancellation:\n%s", out.String())
	}
}

func TestRunStopsWithContext(t *testing.T) {
	e := &engine{ServeFn: func(*commands.Request) commands.Reply { return commands.Reply{} }}
	r, w, err := os.Pipe() // never written: Run must not wait for input
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := console.New(e, r, &bytes.Buffer{}, console.Options{Interactive: true}).Run(ctx); err != context.Canceled {
		t.Errorf("Run(cancelled ctx) = %v, want context.Canceled", err)
	}
}
