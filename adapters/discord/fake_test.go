package discord_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"gopkg.in/yaml.v3"

	"github.com/portalbot/portalbot/adapters/discord"
	"github.com/portalbot/portalbot/commands"
)

// call is one request the fake Discord REST server received.
type call struct {
	Method, Path, Auth string
	Query              string
	Body               map[string]any
	Raw                []byte
	// Files are a multipart message's attachments by file name; Raw and
	// Body then hold its payload_json part, as Discord reads it.
	Files map[string][]byte
}

// fakeDiscord is an httptest server answering the REST routes the adapter
// uses with Discord's JSON shapes. Every call is recorded and sent on
// calls.
type fakeDiscord struct {
	srv   *httptest.Server
	calls chan call
	mu    sync.Mutex
	all   []call // guarded by mu
	seq   int    // message ids, guarded by mu
}

func newFakeDiscord(t testing.TB) *fakeDiscord {
	t.Helper()
	f := &fakeDiscord{calls: make(chan call, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{msg}", func(w http.ResponseWriter, r *http.Request) {
		c := f.record(r)
		f.message(w, r.PathValue("msg"), "", c.Body)
	})
	mux.HandleFunc("DELETE /api/v9/webhooks/{app}/{token}/messages/{msg}", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", func(w http.ResponseWriter, r *http.Request) {
		c := f.record(r)
		f.message(w, "", "", c.Body)
	})
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", func(w http.ResponseWriter, r *http.Request) {
		c := f.record(r)
		if r.PathValue("channel") == "forbidden" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message": "Missing Access", "code": 50001}`)
			return
		}
		f.message(w, "", r.PathValue("channel"), c.Body)
	})
	overwrite := func(w http.ResponseWriter, r *http.Request) {
		c := f.record(r)
		var cmds []map[string]any
		if err := json.Unmarshal(c.Raw, &cmds); err != nil {
			http.Error(w, `{"message": "400: Bad Request", "code": 50035}`, http.StatusBadRequest)
			return
		}
		for i, cmd := range cmds {
			cmd["id"] = fmt.Sprint(9000 + i)
			cmd["application_id"] = r.PathValue("app")
			cmd["version"] = "1"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(cmds)
	}
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", overwrite)
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", overwrite)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDiscord) record(r *http.Request) call {
	c := call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization")}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// Discord's upload shape: a payload_json part and files[n] parts.
		if err := r.ParseMultipartForm(32 << 20); err == nil {
			c.Raw = []byte(r.FormValue("payload_json"))
			c.Files = map[string][]byte{}
			for field, fhs := range r.MultipartForm.File {
				if !strings.HasPrefix(field, "files[") {
					continue
				}
				for _, fh := range fhs {
					rd, err := fh.Open()
					if err != nil {
						continue
					}
					c.Files[fh.Filename], _ = io.ReadAll(rd)
					rd.Close()
				}
			}
		}
	} else {
		c.Raw, _ = io.ReadAll(r.Body) // an unreadable body shows up as an empty one in the test
	}
	raw := c.Raw
	if len(raw) > 0 && raw[0] == '{' {
		json.Unmarshal(raw, &c.Body) // a non-object body is kept in Raw only
	}
	f.mu.Lock()
	f.all = append(f.all, c)
	f.mu.Unlock()
	f.calls <- c
	return c
}

// message answers with a Discord message object echoing the content.
func (f *fakeDiscord) message(w http.ResponseWriter, id, channel string, body map[string]any) {
	f.mu.Lock()
	f.seq++
	if id == "" || id == "@original" {
		id = fmt.Sprint(7000 + f.seq)
	}
	f.mu.Unlock()
	content, _ := body["content"].(string)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": id, "channel_id": channel, "content": content, "type": 0,
		"author": map[string]any{"id": "42", "username": "portalbot", "bot": true},
	})
}

// next returns the next recorded call, failing the test after a while.
func (f *fakeDiscord) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("fake Discord: no call within 5s")
		return call{}
	}
}

// none checks that no call arrives for a short while.
func (f *fakeDiscord) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-f.calls:
		t.Fatalf("fake Discord: unexpected call %s %s", c.Method, c.Path)
	case <-time.After(100 * time.Millisecond):
	}
}

// session returns a discordgo session whose REST calls go to the fake.
func (f *fakeDiscord) session(t testing.TB, messageCommands bool) *discordgo.Session {
	t.Helper()
	s, err := discord.NewSession(discord.SessionConfig{Token: "test-token", APIURL: f.srv.URL + "/api", MessageCommands: messageCommands})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	return s
}

// testCatalog is the owners of testdata/catalog-info.yaml by entity name.
func testCatalog(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile("testdata/catalog-info.yaml")
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				Owner string `yaml:"owner"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("testdata/catalog-info.yaml: %v", err)
		}
		if doc.Spec.Owner != "" {
			owners[doc.Metadata.Name] = doc.Spec.Owner
		}
	}
	return owners
}

// testEngine is a real commands.Router answering from the test catalog:
// owner (with autocomplete), search, slow (blocks until release is
// closed) and create (a seven-input form that validates its submission).
type testEngine struct {
	*commands.Router
	release     chan struct{}
	submissions chan *commands.Submission
}

func newTestEngine(t testing.TB) *testEngine {
	t.Helper()
	owners := testCatalog(t)
	e := &testEngine{
		Router:      commands.NewRouter(slog.New(slog.DiscardHandler)),
		release:     make(chan struct{}),
		submissions: make(chan *commands.Submission, 10),
	}
	entity := commands.Arg{Name: "entity", Description: "the entity", Required: true, Complete: "entity"}
	e.Handle(commands.Command{
		Name: "owner", Usage: "owner <entity>", Summary: "Who owns an entity", Aliases: []string{"who"},
		Args: []commands.Arg{entity},
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			words := strings.Fields(req.Text)
			name := words[len(words)-1] // "owner x" or "who owns x"
			owner, ok := owners[name]
			if !ok {
				return commands.Reply{}, commands.Userf("no entity %q", name)
			}
			return commands.Reply{
				Title:  name,
				Fields: []commands.Field{{Name: "Owner", Value: owner, URL: "https://portal.example.com/catalog/default/group/" + owner}},
				Links:  []commands.Link{{Text: "Open in the portal", URL: "https://portal.example.com/catalog/default/component/" + name}},
			}, nil
		},
	})
	e.Handle(commands.Command{
		Name: "search", Usage: "search <text>", Summary: "Search the catalog",
		Args: []commands.Arg{{Name: "query", Description: "words", Required: true}},
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			return commands.Reply{Text: "searched: " + strings.TrimPrefix(req.Text, "search "), InChannel: true}, nil
		},
	})
	e.Handle(commands.Command{
		Name: "slow", Usage: "slow <entity>", Summary: "Answers when the test says so",
		Args: []commands.Arg{entity},
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			select {
			case <-e.release:
			case <-ctx.Done():
				return commands.Reply{}, ctx.Err()
			}
			return commands.Reply{Text: "slow answer for " + strings.TrimPrefix(req.Text, "slow ")}, nil
		},
	})
	e.Handle(commands.Command{
		Name: "create", Usage: "create <template>", Summary: "Launch a template",
		Args: []commands.Arg{{Name: "template", Description: "template name", Required: true}},
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			return commands.Reply{Form: testForm()}, nil
		},
	})
	e.HandleAction("launch", func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		if req.Action.Form == nil {
			return commands.Reply{Form: testForm()}, nil
		}
		sub := req.Action.Form
		e.submissions <- sub
		if name := sub.Values["name"]; len(name) == 0 || strings.ToLower(name[0]) != name[0] {
			return commands.Reply{FieldErrors: map[string]string{"name": "must be lower case"}}, nil
		}
		return commands.Reply{Text: "launched " + sub.Values["name"][0], InChannel: true}, nil
	})
	e.HandleSuggest("entity", func(ctx context.Context, prefix string, limit int) ([]commands.Option, error) {
		var out []commands.Option
		for name := range owners {
			if strings.HasPrefix(name, prefix) && len(out) < limit {
				out = append(out, commands.Option{Label: name + " (" + owners[name] + ")", Value: name})
			}
		}
		return out, nil
	})
	return e
}

func testForm() *commands.Form {
	return &commands.Form{
		Action: "launch", Title: "New Go service", State: "template:default/go-service",
		Step: 1, Steps: 1, Intro: "Fill in the service details.",
		Inputs: []commands.Input{
			{Name: "name", Label: "Name", Kind: commands.InputText, Required: true, MaxLength: 63},
			{Name: "description", Label: "Description", Kind: commands.InputMultiline},
			{Name: "owner", Label: "Owner", Kind: commands.InputExternalSelect, Source: "group", Required: true},
			{Name: "lifecycle", Label: "Lifecycle", Kind: commands.InputSelect, Default: []string{"experimental"},
				Options: []commands.Option{{Label: "Experimental", Value: "experimental"}, {Label: "Production", Value: "production"}}},
			{Name: "ci", Label: "Enable CI", Kind: commands.InputCheckbox, Default: []string{"true"}},
			{Name: "regions", Label: "Regions", Kind: commands.InputMultiSelect,
				Options: []commands.Option{{Label: "EU", Value: "eu-west-1"}, {Label: "US", Value: "us-east-1"}}},
			{Name: "replicas", Label: "Replicas", Kind: commands.InputInteger},
		},
	}
}
