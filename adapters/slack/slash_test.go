package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// registerTestCommands adds commands whose answers depend on their input,
// and returns a counter of handler calls.
func registerTestCommands(r *commands.Router) *atomic.Int64 {
	var calls atomic.Int64
	r.Handle(commands.Command{Name: "owner", Usage: "owner <entity>", Summary: "who owns an entity",
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			calls.Add(1)
			_, arg := r.Lookup(req.Text)
			if arg == "" {
				return commands.Reply{}, commands.Userf("usage: owner <entity>")
			}
			return commands.Reply{
				Title:  arg + " is owned by team-" + strings.ToUpper(arg[:1]),
				Text:   "asked by " + req.UserID + " (" + req.Email(ctx) + ")",
				Fields: []commands.Field{{Name: "Owner", Value: "group:default/team-" + arg}},
			}, nil
		}})
	r.Handle(commands.Command{Name: "slow", Summary: "answers late",
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			calls.Add(1)
			time.Sleep(300 * time.Millisecond)
			return commands.Reply{Text: "slow answer to " + req.Text}, nil
		}})
	r.Handle(commands.Command{Name: "loud", Summary: "answers in channel",
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			calls.Add(1)
			return commands.Reply{Text: "everyone sees this", InChannel: true}, nil
		}})
	r.Handle(commands.Command{Name: "create", Summary: "opens a form",
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			calls.Add(1)
			return commands.Reply{Form: testForm(1)}, nil
		}})
	return &calls
}

// testForm is step n of a two-step form covering every input kind.
func testForm(step int) *commands.Form {
	if step == 2 {
		return &commands.Form{Action: "create:svc", Title: "New service", Step: 2, Steps: 2, State: "step2",
			Inputs: []commands.Input{
				{Name: "owner", Label: "Owner", Kind: commands.InputExternalSelect, Source: "owners", Required: true},
				{Name: "replicas", Label: "Replicas", Kind: commands.InputInteger, Default: []string{"2"}},
				{Name: "ratio", Label: "Ratio", Kind: commands.InputNumber},
			}}
	}
	return &commands.Form{Action: "create:svc", Title: "Create a new service from a template", Step: 1, Steps: 2,
		State: "step1", Intro: "Fill in <the> details & submit.",
		Inputs: []commands.Input{
			{Name: "name", Label: "Name", Kind: commands.InputText, Required: true, MinLength: 1, MaxLength: 63, Hint: "lower case"},
			{Name: "description", Label: "Description", Kind: commands.InputMultiline},
			{Name: "public", Label: "Public", Kind: commands.InputCheckbox, Default: []string{"true"}},
			{Name: "lang", Label: "Language", Kind: commands.InputSelect, Required: true, Default: []string{"go"},
				Options: []commands.Option{{Label: "Go", Value: "go"}, {Label: "Java", Value: "java"}}},
			{Name: "tags", Label: "Tags", Kind: commands.InputMultiSelect, Default: []string{"web"},
				Options: []commands.Option{{Value: "web"}, {Value: "db"}}},
			{Name: "weird", Label: "Unknown field", Kind: "ui:SomethingElse"},
		}}
}

func TestSlashCommandAnswersAtOnce(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	code, body := e.post("/slack/commands", formType, e.slashBody("owner payments-api", "h1"), time.Time{}, nil)
	if code != http.StatusOK {
		t.Fatalf("POST /slack/commands = %d %s, want 200", code, body)
	}
	var msg slackgo.WebhookMessage
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		t.Fatalf("answer is not a message: %v: %s", err, body)
	}
	if msg.ResponseType != "ephemeral" {
		t.Errorf("response_type = %q, want ephemeral", msg.ResponseType)
	}
	for _, want := range []string{"payments-api is owned by team-P", "asked by U1 (u1@example.com)", "group:default/team-payments-api", `"action_id":"portalbot_share"`, `"value":"t:owner payments-api"`} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %q: %s", want, body)
		}
	}
	if n := e.slack.count("hook"); n != 0 {
		t.Errorf("response_url used %d times for an immediate answer, want 0", n)
	}
}

func TestSlashCommandRefusesBadRequests(t *testing.T) {
	e := newTestEnv(t, nil)
	calls := registerTestCommands(e.router)
	good := e.slashBody("owner payments-api", "h1")
	forger := NewVerifier("not-the-secret", nil)

	send := func(body string, mutate func(*http.Request)) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/slack/commands", strings.NewReader(body))
		ts, sig := e.signer.Sign(time.Now(), []byte(good))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		mutate(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		body   string
		mutate func(*http.Request)
		want   int
	}{
		{"forged", good, func(r *http.Request) {
			ts, sig := forger.Sign(time.Now(), []byte(good))
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
		}, http.StatusUnauthorized},
		{"tampered", strings.Replace(good, "payments-api", "payments-apx", 1), func(*http.Request) {}, http.StatusUnauthorized},
		{"stale", good, func(r *http.Request) {
			ts, sig := e.signer.Sign(time.Now().Add(-6*time.Minute), []byte(good))
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
		}, http.StatusUnauthorized},
		{"unsigned", good, func(r *http.Request) {
			r.Header.Del("X-Slack-Signature")
		}, http.StatusUnauthorized},
		{"oversized", good + "&pad=" + strings.Repeat("x", maxBody), func(*http.Request) {}, http.StatusRequestEntityTooLarge},
		{"GET", "", func(r *http.Request) { r.Method = http.MethodGet }, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := send(tt.body, tt.mutate); got != tt.want {
				t.Errorf("POST /slack/commands (%s) = %d, want %d", tt.name, got, tt.want)
			}
		})
	}
	for _, path := range []string{"/slack/interactions", "/slack/events"} {
		code, _ := e.post(path, formType, "payload=%7B%7D", time.Now().Add(-10*time.Minute), nil)
		if code != http.StatusUnauthorized {
			t.Errorf("POST %s with a stale signature = %d, want 401", path, code)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("engine ran %d times for refused requests, want 0", n)
	}
	if got := e.slack.methods(); len(got) != 0 {
		t.Errorf("refused requests caused Slack calls %v", got)
	}
	// The same request correctly signed is answered.
	if code, _ := e.post("/slack/commands", formType, good, time.Time{}, nil); code != http.StatusOK {
		t.Errorf("POST /slack/commands (good) = %d, want 200", code)
	}
}

func TestSlashCommandLateAnswerUsesResponseURL(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	e.adapter.budget = 50 * time.Millisecond
	start := time.Now()
	code, body := e.post("/slack/commands", formType, e.slashBody("slow thing", "late"), time.Time{}, nil)
	if code != http.StatusOK || body != "" {
		t.Fatalf("POST /slack/commands (slow) = %d %q, want an empty 200", code, body)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("slow command acknowledged after %v, want before the engine finished", took)
	}
	hook := e.slack.wait(t, "hook")
	if hook.JSON["response_type"] != "ephemeral" || !strings.Contains(hook.JSON["text"].(string), "slow answer to slow thing") {
		t.Errorf("response_url got %v, want the ephemeral slow answer", hook.JSON)
	}
}

func TestSlashCommandInChannel(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	_, body := e.post("/slack/commands", formType, e.slashBody("loud", "h"), time.Time{}, nil)
	if !strings.Contains(body, `"response_type":"in_channel"`) || strings.Contains(body, actionShare) {
		t.Errorf("in-channel answer = %s, want response_type in_channel and no share button", body)
	}
}

func TestSlashCommandOpensForm(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	code, body := e.post("/slack/commands", formType, e.slashBody("create svc", "form"), time.Time{}, nil)
	if code != http.StatusOK || body != "" {
		t.Fatalf("POST /slack/commands (form) = %d %q, want an empty 200", code, body)
	}
	open := e.slack.wait(t, "views.open")
	if open.JSON["trigger_id"] != "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c" {
		t.Errorf("views.open trigger_id = %v", open.JSON["trigger_id"])
	}
	view, _ := json.Marshal(open.JSON["view"])
	var got slackgo.ModalViewRequest
	if err := json.Unmarshal(view, &got); err != nil {
		t.Fatalf("views.open view: %v", err)
	}
	meta := decodeMeta(got.PrivateMetadata)
	if meta.State != "step1" || meta.Channel != "C1" || meta.ResponseURL != e.slack.hookURL("form") {
		t.Errorf("private_metadata = %+v, want state step1, channel C1 and the response_url", meta)
	}
	if got.CallbackID != "create:svc" || len(got.Blocks.BlockSet) != 8 {
		t.Errorf("view = callback %q with %d blocks, want create:svc with 8", got.CallbackID, len(got.Blocks.BlockSet))
	}
}

func TestSlashCommandExpiredTriggerOffersButton(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	e.adapter.trigger = 0 // every trigger is already too old
	_, body := e.post("/slack/commands", formType, e.slashBody("create svc", "form"), time.Time{}, nil)
	if !strings.Contains(body, `"action_id":"portalbot_open#`) || !strings.Contains(body, `"value":"t:create svc"`) {
		t.Errorf("answer with an expired trigger = %s, want an Open form button", body)
	}
	if n := e.slack.count("views.open"); n != 0 {
		t.Errorf("views.open called %d times with an expired trigger", n)
	}
}
