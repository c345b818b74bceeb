package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// payload reads testdata/payloads/name.json and fills its {{placeholders}}.
func payload(t *testing.T, name string, vars map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range vars {
		j, _ := json.Marshal(v)
		s = strings.ReplaceAll(s, "{{"+k+"}}", strings.Trim(string(j), `"`))
	}
	if strings.Contains(s, "{{") {
		t.Fatalf("payload %s has unfilled placeholders", name)
	}
	return s
}

// actionRecorder registers actions and records the requests they get.
type actionRecorder struct {
	mu   sync.Mutex
	reqs []commands.Request
}

func (ar *actionRecorder) record(req *commands.Request) {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	c := *req
	c.Followup = nil
	ar.reqs = append(ar.reqs, c)
}

func (ar *actionRecorder) last(t *testing.T) commands.Request {
	t.Helper()
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if len(ar.reqs) == 0 {
		t.Fatal("no action request recorded")
	}
	return ar.reqs[len(ar.reqs)-1]
}

func registerTestActions(r *commands.Router) *actionRecorder {
	ar := &actionRecorder{}
	r.HandleAction("docs", func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		ar.record(req)
		return commands.Reply{Text: "docs for " + req.Action.Value}, nil
	})
	r.HandleAction("pick", func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		ar.record(req)
		return commands.Reply{Text: "picked " + strings.Join(req.Action.Values, "+")}, nil
	})
	r.HandleAction("launch", func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		ar.record(req)
		return commands.Reply{Form: testForm(1)}, nil
	})
	r.HandleAction("create", func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		ar.record(req)
		sub := req.Action.Form
		switch {
		case sub == nil:
			return commands.Reply{}, commands.Userf("no form")
		case sub.State == "step1" && strings.ToLower(sub.Values["name"][0]) != sub.Values["name"][0]:
			return commands.Reply{FieldErrors: map[string]string{"name": "must be lower case", "nope": "not a field"}}, nil
		case sub.State == "step1":
			return commands.Reply{Form: testForm(2)}, nil
		default:
			return commands.Reply{Text: "created " + sub.Values["name"][0], InChannel: true}, nil
		}
	})
	r.HandleSuggest("owners", func(ctx context.Context, prefix string, limit int) ([]commands.Option, error) {
		var out []commands.Option
		for i := 0; i < 150 && len(out) < limit; i++ {
			out = append(out, commands.Option{Label: prefix + "-team-" + string(rune('a'+i%26)), Value: "group:default/" + prefix + string(rune('a'+i%26))})
		}
		return out, nil
	})
	return ar
}

func TestBlockActionButton(t *testing.T) {
	e := newTestEnv(t, nil)
	ar := registerTestActions(e.router)
	body := payload(t, "block_actions", map[string]string{"hooks": e.slack.srv.URL + "/hooks", "action_id": "docs#1", "value": "component:default/payments-api"})
	start := time.Now()
	code, resp := e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil)
	if code != http.StatusOK || resp != "" {
		t.Fatalf("POST /slack/interactions (block_actions) = %d %q, want an empty 200", code, resp)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("block action acknowledged after %v", took)
	}
	hook := e.slack.wait(t, "hook")
	if got := hook.JSON["text"]; got != "docs for component:default/payments-api" {
		t.Errorf("response_url text = %v, want the docs answer", got)
	}
	if req := ar.last(t); req.Action.ID != "docs" || req.UserID != "U1" || req.ChannelID != "C1" || req.Email(context.Background()) != "u1@example.com" {
		t.Errorf("action request = %+v", req)
	}
}

func TestBlockActionMultiSelectInThread(t *testing.T) {
	e := newTestEnv(t, nil)
	ar := registerTestActions(e.router)
	body := payload(t, "block_actions_select", map[string]string{"hooks": e.slack.srv.URL + "/hooks"})
	if code, _ := e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil); code != http.StatusOK {
		t.Fatalf("POST /slack/interactions = %d", code)
	}
	// In a thread the response_url would answer outside it, so the
	// ephemeral answer goes through chat.postEphemeral with thread_ts.
	c := e.slack.wait(t, "chat.postEphemeral")
	if c.Form.Get("thread_ts") != "1700000000.000001" || c.Form.Get("user") != "U1" || !strings.Contains(c.Form.Get("text"), "picked a+b") {
		t.Errorf("chat.postEphemeral = %v", c.Form)
	}
	if req := ar.last(t); !reflect.DeepEqual(req.Action.Values, []string{"a", "b"}) || req.ThreadID != "1700000000.000001" {
		t.Errorf("action = %+v thread %q, want values [a b] in the thread", req.Action, req.ThreadID)
	}
}

func TestBlockActionOpensForm(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestActions(e.router)
	body := payload(t, "block_actions", map[string]string{"hooks": e.slack.srv.URL + "/hooks", "action_id": "launch:svc#4", "value": "template:default/svc"})
	e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil)
	open := e.slack.wait(t, "views.open")
	if open.JSON["trigger_id"] != "1234567890.1234567890.abcdef" {
		t.Errorf("views.open trigger_id = %v", open.JSON["trigger_id"])
	}
}

func TestShareInChannel(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	body := payload(t, "block_actions", map[string]string{"hooks": e.slack.srv.URL + "/hooks", "action_id": actionShare, "value": "t:owner payments-api"})
	e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil)
	hook := e.slack.wait(t, "hook")
	b := jsonText(hook.JSON)
	if hook.JSON["response_type"] != "in_channel" || !strings.Contains(b, "payments-api is owned by team-P") ||
		!strings.Contains(b, "Shared by <@U1>") || strings.Contains(b, actionShare) {
		t.Errorf("shared answer = %s, want it in_channel, noting who shared, without a share button", b)
	}
}

func TestViewSubmission(t *testing.T) {
	e := newTestEnv(t, nil)
	ar := registerTestActions(e.router)
	hooks := e.slack.srv.URL + "/hooks"
	submit := func(meta viewMeta, name string) (int, slackgo.ViewSubmissionResponse, string) {
		t.Helper()
		md, err := meta.encode()
		if err != nil {
			t.Fatal(err)
		}
		body := payload(t, "view_submission", map[string]string{"metadata": md, "name": name})
		code, resp := e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil)
		var vr slackgo.ViewSubmissionResponse
		if resp != "" {
			if err := json.Unmarshal([]byte(resp), &vr); err != nil {
				t.Fatalf("view submission answer %q: %v", resp, err)
			}
		}
		return code, vr, resp
	}

	t.Run("errors", func(t *testing.T) {
		code, vr, raw := submit(viewMeta{State: "step1", Channel: "C1", ResponseURL: hooks + "/v"}, "My Service")
		if code != http.StatusOK || vr.ResponseAction != slackgo.RAErrors {
			t.Fatalf("answer = %d %s, want response_action errors", code, raw)
		}
		want := map[string]string{"name": "must be lower case; not a field"}
		if !reflect.DeepEqual(vr.Errors, want) {
			t.Errorf("errors = %v, want %v", vr.Errors, want)
		}
		sub := ar.last(t).Action.Form
		wantValues := map[string][]string{"name": {"My Service"}, "public": {"false"}, "lang": {"go"}, "tags": {"web", "db"}, "replicas": {"3"}}
		if !reflect.DeepEqual(sub.Values, wantValues) || sub.State != "step1" || sub.Key != "V123:1700000002.Xyz" {
			t.Errorf("submission = %+v, want values %v, state step1, key V123:1700000002.Xyz", sub, wantValues)
		}
	})
	t.Run("update", func(t *testing.T) {
		_, vr, raw := submit(viewMeta{State: "step1", Channel: "C1", Thread: "1700000000.000001", ResponseURL: hooks + "/v"}, "my-service")
		if vr.ResponseAction != slackgo.RAUpdate || vr.View == nil {
			t.Fatalf("answer = %s, want response_action update with a view", raw)
		}
		meta := decodeMeta(vr.View.PrivateMetadata)
		if meta.State != "step2" || meta.Channel != "C1" || meta.Thread != "1700000000.000001" {
			t.Errorf("next step metadata = %+v, want state step2 and the same conversation", meta)
		}
		if !strings.Contains(raw, `"text":"Step 2 of 2"`) {
			t.Errorf("next step view lacks its step: %s", raw)
		}
	})
	t.Run("clear and post", func(t *testing.T) {
		_, vr, raw := submit(viewMeta{State: "step2", Channel: "C1", Thread: "1700000000.000001"}, "my-service")
		if vr.ResponseAction != slackgo.RAClear {
			t.Fatalf("answer = %s, want response_action clear", raw)
		}
		c := e.slack.wait(t, "chat.postMessage")
		if c.Form.Get("channel") != "C1" || c.Form.Get("thread_ts") != "1700000000.000001" || !strings.Contains(c.Form.Get("blocks"), "created my-service") {
			t.Errorf("result post = %v, want it in C1's thread", c.Form)
		}
	})
}

func TestBlockSuggestion(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestActions(e.router)
	body := payload(t, "block_suggestion", map[string]string{"value": "pay"})
	code, resp := e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil)
	if code != http.StatusOK {
		t.Fatalf("POST /slack/interactions (block_suggestion) = %d", code)
	}
	var or slackgo.OptionsResponse
	if err := json.Unmarshal([]byte(resp), &or); err != nil {
		t.Fatalf("options answer %q: %v", resp, err)
	}
	if len(or.Options) != maxSelectOptions {
		t.Fatalf("got %d options, want %d", len(or.Options), maxSelectOptions)
	}
	if o := or.Options[0]; o.Text.Text != "pay-team-a" || o.Value != "group:default/paya" {
		t.Errorf("first option = %q/%q, want pay-team-a/group:default/paya", o.Text.Text, o.Value)
	}
}

// jsonText marshals v without HTML escaping, for substring checks.
func jsonText(v any) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err.Error()
	}
	return sb.String()
}
