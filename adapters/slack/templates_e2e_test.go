package slack

import (
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/scaffolder"
	slackgo "github.com/slack-go/slack"
)

// corpusDir is the shared Backstage corpus, read-only, outside the module.
const corpusDir = "../../../shared/corpus/backstage"

// scaffolderTask is the body of POST /api/scaffolder/v2/tasks.
type scaffolderTask struct {
	TemplateRef string            `json:"templateRef"`
	Values      map[string]any    `json:"values"`
	Secrets     map[string]string `json:"secrets"`
}

// fakeScaffolder speaks Backstage's scaffolder task API: POST …/tasks
// answers 201 {id}; GET …/tasks/{id}/eventstream streams a log event per
// step and a completion with the template's output links, as server-sent
// events.
type fakeScaffolder struct {
	srv *httptest.Server

	mu    sync.Mutex
	tasks []scaffolderTask // guarded by mu
	auth  []string         // Authorization headers seen; guarded by mu
}

func newFakeScaffolder(t *testing.T) *fakeScaffolder {
	t.Helper()
	f := &fakeScaffolder{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/scaffolder/v2/tasks", func(w http.ResponseWriter, r *http.Request) {
		var task scaffolderTask
		if err := json.NewDecoder(r.Body).Decode(&task); err != nil {
			http.Error(w, `{"error":{"name":"InputError","message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.tasks = append(f.tasks, task)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		id := fmt.Sprintf("b7e1c0de-%04d", len(f.tasks))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	})
	mux.HandleFunc("GET /api/scaffolder/v2/tasks/{id}/eventstream", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		n := 0
		send := func(typ, body string) {
			n++
			fmt.Fprintf(w, "event: %s\ndata: {\"id\":%d,\"taskId\":%q,\"type\":%q,\"body\":%s,\"createdAt\":\"2026-01-05T10:00:0%dZ\"}\n\n", typ, n, id, typ, body, n%10)
			fl.Flush()
		}
		for _, step := range []struct{ id, name string }{{"template", "Fetch Skeleton + Template"}, {"publish", "Publish"}, {"register", "Register"}} {
			send("log", fmt.Sprintf(`{"message":"Beginning step %s","stepId":%q,"status":"processing"}`, step.name, step.id))
			send("log", fmt.Sprintf(`{"message":"Finished step %s","stepId":%q,"status":"completed"}`, step.name, step.id))
		}
		send("completion", `{"message":"Run completed with status: completed","output":{"links":[`+
			`{"title":"Repository","url":"https://github.com/acme/web-app"},`+
			`{"title":"Open in catalog","icon":"catalog","entityRef":"component:default/web-app"}]}}`)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeScaffolder) launched() ([]scaffolderTask, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]scaffolderTask(nil), f.tasks...), append([]string(nil), f.auth...)
}

// templatesEnv is the Slack adapter over the engine bot/router.go builds:
// commands.New with a scaffolder.Service launching on a fake Backstage.
func templatesEnv(t *testing.T, st *sqlstore.Store, backstageURL string) *testEnv {
	t.Helper()
	fs := newFakeSlack(t)
	logger := slog.New(slog.DiscardHandler)
	const portal = "https://portal.example.com"
	svc := scaffolder.New(scaffolder.Params{
		Store:     st,
		Audit:     st,
		Launcher:  scaffolder.NewBackstage(backstageURL, "backstage-static-token", nil, logger),
		PortalURL: portal,
		TaskURL:   func(id string) string { return portal + "/create/tasks/" + id },
		Logger:    logger,
	})
	router := commands.New(commands.Params{Store: st, PortalURL: portal, Logger: logger, Templates: svc})
	a, err := New(Params{Engine: router, API: fs.client(), SigningSecret: testSecret, BotUserID: "UBOT", Dedupe: st,
		ResponseURLPrefixes: []string{fs.srv.URL + "/hooks/"}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); a.Wait(); svc.Close() })
	return &testEnv{t: t, slack: fs, router: router, adapter: a, srv: srv, signer: NewVerifier(testSecret, nil)}
}

// mentionEvent is an app_mention event_callback as the Events API sends it.
func mentionEvent(t *testing.T, eventID, text, ts string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"token": "ignored", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": 1700000010,
		"event": map[string]any{"type": "app_mention", "user": "U1", "text": "<@UBOT> " + text, "ts": ts, "channel": "C1", "event_ts": ts},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// launchButton finds the Launch button of the message blocks.
func launchButton(t *testing.T, blocksJSON string) *slackgo.ButtonBlockElement {
	t.Helper()
	var bs slackgo.Blocks
	if err := json.Unmarshal([]byte(blocksJSON), &bs); err != nil {
		t.Fatalf("message blocks %s: %v", blocksJSON, err)
	}
	for _, b := range bs.BlockSet {
		ab, ok := b.(*slackgo.ActionBlock)
		if !ok {
			continue
		}
		for _, el := range ab.Elements.ElementSet {
			if btn, ok := el.(*slackgo.ButtonBlockElement); ok && btn.Text != nil && btn.Text.Text == "Launch" {
				return btn
			}
		}
	}
	t.Fatalf("no Launch button in %s", blocksJSON)
	return nil
}

// asView decodes a modal as Slack shows it (a views.open argument or a
// response_action update's view).
func asView(t *testing.T, v any) slackgo.View {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var view slackgo.View
	if err := json.Unmarshal(b, &view); err != nil {
		t.Fatalf("view %s: %v", b, err)
	}
	return view
}

// filled returns v as submitted with values by block id: the state Slack
// sends, with each element's own type. A select's value must be one of its
// options (a static select offers nothing else); external selects take any.
func filled(t *testing.T, v slackgo.View, id, hash string, values map[string]string) slackgo.View {
	t.Helper()
	v.ID, v.Hash, v.TeamID, v.AppID, v.RootViewID = id, hash, "T1", "A1", id
	v.State = &slackgo.ViewState{Values: map[string]map[string]slackgo.BlockAction{}}
	used := map[string]bool{}
	for _, b := range v.Blocks.BlockSet {
		ib, ok := b.(*slackgo.InputBlock)
		if !ok {
			continue
		}
		val, set := values[ib.BlockID]
		used[ib.BlockID] = set
		var act slackgo.BlockAction
		switch el := ib.Element.(type) {
		case *slackgo.PlainTextInputBlockElement:
			act = slackgo.BlockAction{ActionID: el.ActionID, Type: "plain_text_input", Value: val}
		case *slackgo.SelectBlockElement:
			act = slackgo.BlockAction{ActionID: el.ActionID, Type: slackgo.ActionType(el.Type)}
			if set {
				opt := slackgo.OptionBlockObject{Value: val, Text: plain(val)}
				if el.Type == slackgo.OptTypeStatic {
					found := false
					for _, o := range el.Options {
						if o.Value == val {
							opt, found = *o, true
						}
					}
					if !found {
						t.Fatalf("block %s: %q is not one of the select's options", ib.BlockID, val)
					}
				}
				act.SelectedOption = opt
			}
		case *slackgo.NumberInputBlockElement:
			act = slackgo.BlockAction{ActionID: el.ActionID, Type: "number_input", Value: val}
		case *slackgo.CheckboxGroupsBlockElement:
			act = slackgo.BlockAction{ActionID: el.ActionID, Type: "checkboxes", SelectedOptions: []slackgo.OptionBlockObject{}}
			if val == "true" {
				act.SelectedOptions = append(act.SelectedOptions, *el.Options[0])
			}
		default:
			t.Fatalf("block %s: element %T not handled by the test", ib.BlockID, ib.Element)
		}
		v.State.Values[ib.BlockID] = map[string]slackgo.BlockAction{act.ActionID: act}
	}
	for k := range values {
		if !used[k] {
			t.Fatalf("view has no input block %q (inputs: %v)", k, used)
		}
	}
	return v
}

// submitView posts v as a signed view_submission and decodes the answer.
func (e *testEnv) submitView(v slackgo.View) slackgo.ViewSubmissionResponse {
	e.t.Helper()
	cb := &slackgo.InteractionCallback{
		Type: slackgo.InteractionTypeViewSubmission, Token: "ignored", APIAppID: "A1",
		TriggerID: "1234567890.1234567890.fedcba",
		Team:      slackgo.Team{ID: "T1", Domain: "acme"},
		User:      slackgo.User{ID: "U1", Name: "roadrunner", TeamID: "T1"},
		View:      v,
	}
	payload, err := json.Marshal(cb)
	if err != nil {
		e.t.Fatal(err)
	}
	code, body := e.post("/slack/interactions", formType, interactionBody(string(payload)), time.Time{}, nil)
	if code != http.StatusOK {
		e.t.Fatalf("view_submission = %d %s", code, body)
	}
	var vr slackgo.ViewSubmissionResponse
	if body != "" {
		if err := json.Unmarshal([]byte(body), &vr); err != nil {
			e.t.Fatalf("view_submission answer %q: %v", body, err)
		}
	}
	return vr
}

// TestTemplateLaunchThroughSlack launches the corpus's create-react-app
// template from a Slack thread onto a fake Backstage scaffolder: the
// Launch button of "templates" opens the modal, a bad name comes back as a
// field error, two steps later exactly one task is created with the right
// templateRef and values, a repeated submission launches nothing, and the
// task's progress and output links are posted in the thread.
func TestTemplateLaunchThroughSlack(t *testing.T) {
	tplDir := filepath.Join(corpusDir, "extra/backstage-software-templates/scaffolder-templates/create-react-app")
	if _, err := os.Stat(tplDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared Backstage corpus must be present in CI: %v", err)
		}
		t.Skipf("Backstage corpus not present: %v", err)
	}
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "examples", filepath.Join(corpusDir, "packages/catalog-model/examples"))
	catalogtest.LoadDir(t, st, "cra", tplDir)
	bs := newFakeScaffolder(t)
	e := templatesEnv(t, st, bs.srv.URL)
	const thread = "1700000010.000100"

	// "@portalbot templates react" in a channel: the list, in its thread.
	if code, _ := e.post("/slack/events", "application/json", mentionEvent(t, "Ev0TPL1", "templates react", thread), time.Time{}, nil); code != http.StatusOK {
		t.Fatalf("POST /slack/events = %d", code)
	}
	list := e.slack.wait(t, "chat.postMessage")
	if list.Form.Get("thread_ts") != thread || !strings.Contains(list.Form.Get("blocks"), "Create React App Template") {
		t.Fatalf("templates answer = %v, want the template listed in the thread", list.Form)
	}
	btn := launchButton(t, list.Form.Get("blocks"))
	if btn.Value != "template:default/create-react-app-template" {
		t.Errorf("Launch button value = %q, want the template's ref", btn.Value)
	}

	// The click opens the first step as a modal.
	click := &slackgo.InteractionCallback{
		Type: slackgo.InteractionTypeBlockActions, Token: "ignored", APIAppID: "A1",
		TriggerID: "1234567890.1234567890.abcdef",
		Team:      slackgo.Team{ID: "T1", Domain: "acme"},
		User:      slackgo.User{ID: "U1", Name: "roadrunner", TeamID: "T1"},
		Channel:   slackgo.Channel{GroupConversation: slackgo.GroupConversation{Conversation: slackgo.Conversation{ID: "C1"}}},
		Container: slackgo.Container{Type: "message", MessageTs: "1700000000.000001", ThreadTs: thread, ChannelID: "C1"},
		ActionCallback: slackgo.ActionCallbacks{BlockActions: []*slackgo.BlockAction{{
			ActionID: btn.ActionID, BlockID: "b1", Type: "button", Value: btn.Value, Text: *plain("Launch"), ActionTs: "1700000001.000200",
		}}},
	}
	payload, err := json.Marshal(click)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.post("/slack/interactions", formType, interactionBody(string(payload)), time.Time{}, nil); code != http.StatusOK {
		t.Fatalf("block_actions = %d", code)
	}
	open := e.slack.wait(t, "views.open")
	step1 := asView(t, open.JSON["view"])
	if step1.CallbackID != commands.ActionTemplateSubmit {
		t.Fatalf("modal callback_id = %q, want %q", step1.CallbackID, commands.ActionTemplateSubmit)
	}

	// A name that breaks Backstage's entity name rule: errors next to it.
	vr := e.submitView(filled(t, step1, "V1", "1700000002.a", map[string]string{"component_id": "-Web App-", "owner": "group:default/team-a"}))
	if vr.ResponseAction != slackgo.RAErrors || vr.Errors["component_id"] == "" || len(vr.Errors) != 1 {
		t.Fatalf("bad step 1 answer = %+v, want response_action errors on component_id only", vr)
	}

	vr = e.submitView(filled(t, step1, "V1", "1700000003.b", map[string]string{"component_id": "web-app", "owner": "group:default/team-a"}))
	if vr.ResponseAction != slackgo.RAUpdate || vr.View == nil {
		t.Fatalf("step 1 answer = %+v, want response_action update with step 2", vr)
	}
	step2 := asView(t, vr.View)
	if meta := decodeMeta(step2.PrivateMetadata); meta.Channel != "C1" || meta.Thread != thread {
		t.Errorf("step 2 metadata = %+v, want the same conversation", meta)
	}
	vr = e.submitView(filled(t, step2, "V1", "1700000004.c", map[string]string{"repoUrl.host": "github.com", "repoUrl.owner": "acme", "repoUrl.repo": "web-app"}))
	if vr.ResponseAction != slackgo.RAUpdate || vr.View == nil {
		t.Fatalf("step 2 answer = %+v, want response_action update with the review", vr)
	}
	// The review lists the values as the template receives them; launching
	// it closes the modal.
	review := asView(t, vr.View)
	if blocks, _ := json.Marshal(review.Blocks); !strings.Contains(string(blocks), "• repoUrl: github.com?owner=acme") {
		t.Errorf("review view lacks the repoUrl value:\n%s", blocks)
	}
	final := filled(t, review, "V1", "1700000005.d", map[string]string{})
	if vr := e.submitView(final); vr.ResponseAction != slackgo.RAClear {
		t.Fatalf("review answer = %+v, want response_action clear", vr)
	}

	// The run's progress (one message in the thread, updated per step) and
	// its result (in the thread, for all).
	var result call
	deadline := time.After(5 * time.Second)
	for result.Method == "" {
		select {
		case c := <-e.slack.signal:
			if c.Method == "chat.postMessage" && strings.Contains(c.Form.Get("blocks"), "https://github.com/acme/web-app") {
				result = c
			}
		case <-deadline:
			t.Fatalf("no result posted within 5s; calls: %v", e.slack.methods())
		}
	}
	if result.Form.Get("channel") != "C1" || result.Form.Get("thread_ts") != thread {
		t.Errorf("result posted to %s thread %q, want C1 thread %s", result.Form.Get("channel"), result.Form.Get("thread_ts"), thread)
	}
	for _, want := range []string{"https://github.com/acme/web-app", "https://portal.example.com/catalog/default/component/web-app"} {
		if !strings.Contains(result.Form.Get("blocks"), want) {
			t.Errorf("result lacks output link %s:\n%s", want, result.Form.Get("blocks"))
		}
	}
	var ephemeral, updates []string
	posts := 0
	updatedTS := map[string]bool{}
	e.slack.mu.Lock()
	for _, c := range e.slack.calls {
		switch {
		case c.Method == "chat.postEphemeral" && c.Form.Get("thread_ts") == thread:
			ephemeral = append(ephemeral, c.Form.Get("text"))
		case c.Method == "chat.postMessage" && strings.Contains(c.Form.Get("blocks"), "(task b7e1c0de-0001)"):
			posts++
			if c.Form.Get("channel") != "C1" || c.Form.Get("thread_ts") != thread {
				t.Errorf("progress posted to %s thread %q, want C1 thread %s", c.Form.Get("channel"), c.Form.Get("thread_ts"), thread)
			}
		case c.Method == "chat.update":
			updates = append(updates, c.Form.Get("blocks"))
			updatedTS[c.Form.Get("channel")+"/"+c.Form.Get("ts")] = true
		}
	}
	e.slack.mu.Unlock()
	if got := strings.Join(ephemeral, "\n"); !strings.Contains(got, "Launched Create React App Template (task b7e1c0de-0001)") || strings.Contains(got, "completed") {
		t.Errorf("ephemeral posts in the thread = %q, want the launch only", got)
	}
	if posts != 1 || len(updates) == 0 || len(updatedTS) != 1 || !strings.Contains(updates[len(updates)-1], "Publish completed") {
		t.Errorf("progress = %d posts and updates %v of %v, want one message updated up to Publish completed", posts, updates, updatedTS)
	}

	// Slack retries the same submission: nothing more is launched.
	if vr := e.submitView(final); vr.ResponseAction != slackgo.RAClear {
		t.Errorf("repeated submission answer = %+v, want response_action clear", vr)
	}
	e.adapter.Wait()
	tasks, auth := bs.launched()
	if len(tasks) != 1 {
		t.Fatalf("fake scaffolder got %d tasks, want exactly 1: %+v", len(tasks), tasks)
	}
	want := map[string]any{"component_id": "web-app", "owner": "group:default/team-a", "repoUrl": "github.com?owner=acme&repo=web-app"}
	if tasks[0].TemplateRef != "template:default/create-react-app-template" || !reflect.DeepEqual(tasks[0].Values, want) {
		t.Errorf("task = %s %v, want template:default/create-react-app-template %v", tasks[0].TemplateRef, tasks[0].Values, want)
	}
	if auth[0] != "Bearer backstage-static-token" {
		t.Errorf("Authorization = %q, want the static token", auth[0])
	}
	if u := tasks[0].Secrets[scaffolder.SecretUser]; u != "slack:U1 (roadrunner)" || tasks[0].Secrets[scaffolder.SecretUserEmail] != "u1@example.com" {
		t.Errorf("secrets = %v, want who launched it", tasks[0].Secrets)
	}
}
