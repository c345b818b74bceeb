package discord_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/adapters/discord"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/scaffolder"
)

// fakeBackstage counts the tasks POSTed to Backstage's scaffolder API and
// streams a finished step and a completion for each.
type fakeBackstage struct {
	srv   *httptest.Server
	mu    sync.Mutex
	tasks []map[string]any // request bodies; guarded by mu
}

func newFakeBackstage(t *testing.T) *fakeBackstage {
	t.Helper()
	f := &fakeBackstage{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/scaffolder/v2/tasks", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.tasks = append(f.tasks, body)
		id := fmt.Sprintf("task-%d", len(f.tasks))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	})
	mux.HandleFunc("GET /api/scaffolder/v2/tasks/{id}/eventstream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "event: log\ndata: {\"id\":1,\"type\":\"log\",\"body\":{\"message\":\"Finished step Fetch\",\"stepId\":\"fetch\",\"status\":\"completed\"}}\n\n")
		fmt.Fprintf(w, "event: log\ndata: {\"id\":1,\"type\":\"log\",\"body\":{\"message\":\"Finished step Publish\",\"stepId\":\"publish\",\"status\":\"completed\"}}\n\n")
		fmt.Fprintf(w, "event: completion\ndata: {\"id\":2,\"type\":\"completion\",\"body\":{\"message\":\"done\",\"output\":{\"links\":[{\"title\":\"Repository\",\"url\":\"https://github.com/acme/my-service\"}]}}}\n\n")
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBackstage) launched() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.tasks...)
}

// engineHarness is the HTTP harness with the engine bot/router.go builds
// instead of the test router: commands.New over a SQLite store loaded
// from testdata, with templates launched on a fake Backstage.
func engineHarness(t *testing.T) (*harness, *fakeBackstage) {
	t.Helper()
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata")
	bs := newFakeBackstage(t)
	logger := slog.New(slog.DiscardHandler)
	const portal = "https://portal.example.com"
	svc := scaffolder.New(scaffolder.Params{
		Store: st, Audit: st, PortalURL: portal, Logger: logger,
		Launcher: scaffolder.NewBackstage(bs.srv.URL, "backstage-token", nil, logger),
	})
	t.Cleanup(svc.Close)
	router := commands.New(commands.Params{Store: st, PortalURL: portal, Logger: logger, Templates: svc})
	h := newHarness(t, func(p *discord.Params) { p.Engine = router })
	return h, bs
}

// slashCreate is /portal create template:<name>.
func slashCreate(t *testing.T, name string) []byte {
	return interactionJSON(t, 2, map[string]any{"name": "portal", "type": 1, "options": []any{
		map[string]any{"name": "create", "type": 1, "options": []any{map[string]any{"name": "template", "type": 3, "value": name}}},
	}})
}

func TestRealEngineOverHTTPAndGateway(t *testing.T) {
	h, _ := engineHarness(t)

	t.Run("PING", func(t *testing.T) {
		code, body := h.post(t, readFixture(t, "ping.json"), h.priv, h.now)
		if code != http.StatusOK || strings.TrimSpace(string(body)) != `{"type":1}` {
			t.Errorf("PING = %d %s, want 200 PONG", code, body)
		}
	})
	t.Run("forged", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(rand.Reader)
		if code, body := h.post(t, readFixture(t, "portal-owner.json"), other, h.now); code != http.StatusUnauthorized {
			t.Errorf("forged /portal owner = %d %s, want 401", code, body)
		}
	})
	t.Run("slash owner", func(t *testing.T) {
		resp := h.interact(t, readFixture(t, "portal-owner.json"))
		if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || len(resp.Data.Embeds) == 0 {
			t.Fatalf("answer = %+v, want a message with an embed", resp)
		}
		b, _ := json.Marshal(resp.Data.Embeds)
		for _, want := range []string{"payments-api", "team-payments", "https://portal.example.com/catalog/default/component/payments-api"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("owner answer lacks %q: %s", want, b)
			}
		}
		if strings.Contains(string(b), "team-discovery") {
			t.Errorf("owner answer names another team: %s", b)
		}
	})
	t.Run("gateway message", func(t *testing.T) {
		h.a.HandleMessage(context.Background(), messageCreate(t, "!portal owner search-indexer", ada))
		c := h.fake.next(t)
		if c.Method != http.MethodPost || c.Path != "/api/v9/channels/555000000000000001/messages" {
			t.Fatalf("call = %s %s, want a channel message", c.Method, c.Path)
		}
		var sent struct {
			Embeds []*discordgo.MessageEmbed `json:"embeds"`
		}
		if err := json.Unmarshal(c.Raw, &sent); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(sent.Embeds)
		if !strings.Contains(string(b), "search-indexer") || !strings.Contains(string(b), "Discovery Team") {
			t.Errorf("gateway answer = %s, want search-indexer owned by Discovery Team", b)
		}
	})
	h.fake.none(t)
}

// byLabel returns the values of a modal's inputs, in order, by label.
func byLabel(t *testing.T, inputs []modalInput, values map[string]string) []string {
	t.Helper()
	out := make([]string, len(inputs))
	for i, in := range inputs {
		v, ok := values[in.Label]
		if !ok {
			t.Fatalf("modal input %q has no value in the test (inputs %+v)", in.Label, inputs)
		}
		out[i] = v
	}
	return out
}

// TestTemplateLaunchThroughDiscordModals fills a two-step template whose
// first step needs two modals, gets a field error back with what was
// typed, and launches exactly one Backstage task, even when the last modal
// is submitted twice.
func TestTemplateLaunchThroughDiscordModals(t *testing.T) {
	h, bs := engineHarness(t)

	step1 := map[string]string{"Name": "my service", "Description": "Serves things.", "Owner": "team-payments",
		"Lifecycle": "production", "Public API": "yes", "HTTP port": "8080"}
	resp := h.interact(t, slashCreate(t, "go-service"))
	part1 := modalInputs(t, resp)
	if len(part1) != 5 || !strings.Contains(resp.Data.Title, "(1/2)") {
		t.Fatalf("first modal %q = %+v, want five inputs, part 1/2", resp.Data.Title, part1)
	}
	resp = h.interact(t, modalSubmit(t, resp.Data.CustomID, byLabel(t, part1, step1)...))
	resp = h.interact(t, click(t, button(t, resp)))
	part2 := modalInputs(t, resp)
	if len(part2) != 1 {
		t.Fatalf("second modal = %+v, want the sixth input", part2)
	}
	// The name breaks Backstage's entity name rule: the error comes back
	// as an ephemeral message whose button reopens what was typed.
	resp = h.interact(t, modalSubmit(t, resp.Data.CustomID, byLabel(t, part2, step1)...))
	if resp.Data == nil || resp.Data.Flags != discordgo.MessageFlagsEphemeral || len(resp.Data.Embeds) != 1 {
		t.Fatalf("answer to a bad name = %+v, want an ephemeral error embed", resp.Data)
	}
	if f := resp.Data.Embeds[0].Fields; len(f) != 1 || f[0].Name != "Name" {
		t.Fatalf("error fields = %+v, want one on Name", f)
	}
	resp = h.interact(t, click(t, button(t, resp)))
	reopened := modalInputs(t, resp)
	for _, in := range reopened {
		if want := step1[in.Label]; !strings.EqualFold(in.Value, want) {
			t.Errorf("reopened modal: %s = %q, want %q as typed", in.Label, in.Value, want)
		}
	}
	// Fixing the name submits the whole step; step 2 opens from a button.
	step1["Name"] = "my-service"
	resp = h.interact(t, modalSubmit(t, resp.Data.CustomID, byLabel(t, reopened, step1)...))
	resp = h.interact(t, click(t, button(t, resp)))
	step2 := modalInputs(t, resp)
	if len(step2) != 3 {
		t.Fatalf("step 2 modal = %+v, want the repository's host, owner and name", step2)
	}
	last := modalSubmit(t, resp.Data.CustomID, byLabel(t, step2, map[string]string{"Repository: host": "github.com", "Repository: owner": "acme", "Repository: repository": "my-service"})...)
	// The review comes as a message whose button opens it: a modal cannot
	// answer a modal. Its one input, left empty, launches.
	resp = h.interact(t, last)
	if resp.Data == nil || len(resp.Data.Embeds) != 1 || !strings.Contains(resp.Data.Embeds[0].Description, "• repoUrl: github.com?owner=acme") {
		t.Fatalf("answer to step 2 = %+v, want the review listing the values", resp.Data)
	}
	resp = h.interact(t, click(t, button(t, resp)))
	review := modalInputs(t, resp)
	if len(review) != 1 || review[0].Label != "Change something first" {
		t.Fatalf("review modal = %+v, want one Change something first input", review)
	}
	launch := modalSubmit(t, resp.Data.CustomID, "")
	resp = h.interact(t, launch)
	if resp.Data == nil || !strings.Contains(resp.Data.Content, "Launched Go service (task task-1)") {
		t.Fatalf("launch answer = %+v, want the task", resp.Data)
	}
	// Finished steps update one follow-up message; the completion comes as
	// a follow-up of its own.
	deadline := time.After(5 * time.Second)
	var creates, edits []string
	for done := false; !done; {
		select {
		case c := <-h.fake.calls:
			webhook := strings.HasPrefix(c.Path, "/api/v9/webhooks/"+testAppID+"/")
			switch {
			case webhook && c.Method == http.MethodPost && strings.Contains(string(c.Raw), "(task task-1)"):
				creates = append(creates, string(c.Raw))
			case webhook && c.Method == http.MethodPatch && strings.Contains(string(c.Raw), "(task task-1)"):
				edits = append(edits, c.Path)
			}
			done = c.Method == http.MethodPost && webhook && strings.Contains(string(c.Raw), "https://github.com/acme/my-service")
		case <-deadline:
			t.Fatal("no follow-up with the output link within 5s")
		}
	}
	if len(creates) != 1 || len(edits) != 1 || strings.HasSuffix(edits[0], "/@original") {
		t.Errorf("progress = %d created %v, edited %v; want one follow-up created, then edited", len(creates), creates, edits)
	}

	// Discord retries the same modal submission: nothing more is launched.
	resp = h.interact(t, launch)
	if resp.Data == nil || !strings.Contains(resp.Data.Content, "already") {
		t.Errorf("repeated submission answer = %+v, want a note that it was launched", resp.Data)
	}
	tasks := bs.launched()
	if len(tasks) != 1 {
		t.Fatalf("Backstage got %d tasks, want 1", len(tasks))
	}
	want := map[string]any{"name": "my-service", "description": "Serves things.", "owner": "group:default/team-payments",
		"lifecycle": "production", "public": true, "port": float64(8080), "repoUrl": "github.com?owner=acme&repo=my-service"}
	if tasks[0]["templateRef"] != "template:default/go-service" || !reflect.DeepEqual(tasks[0]["values"], want) {
		t.Errorf("task = %v %v, want template:default/go-service %v", tasks[0]["templateRef"], tasks[0]["values"], want)
	}
	secrets, _ := tasks[0]["secrets"].(map[string]any)
	if u, _ := secrets[scaffolder.SecretUser].(string); !strings.HasPrefix(u, "discord:1100000000000000002") {
		t.Errorf("secrets = %v, want the Discord user who launched it", secrets)
	}
}
