package scaffolder_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/scaffolder"
)

func newBackstageService(t *testing.T, st *sqlstore.Store, fake *fakeBackstage, rules []scaffolder.Rule) *scaffolder.Service {
	t.Helper()
	svc := scaffolder.New(scaffolder.Params{
		Store:     st,
		Launcher:  scaffolder.NewBackstage(fake.URL, "test-token", nil, slog.New(slog.DiscardHandler)),
		Audit:     st,
		Rules:     rules,
		PortalURL: testPortal,
		TaskURL:   func(id string) string { return testPortal + "/create/tasks/" + id },
	})
	t.Cleanup(svc.Close)
	return svc
}

func TestListAndOpen(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	svc := newBackstageService(t, st, newFakeBackstage(t), nil)
	r := commands.New(commands.Params{Store: st, PortalURL: testPortal, Logger: slog.New(slog.DiscardHandler), Templates: svc})

	rep := r.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1", Text: "templates go"})
	if len(rep.Sections) != 1 || rep.Sections[0].Title != "New Go service" {
		t.Fatalf("templates go: sections = %+v, want New Go service only", rep.Sections)
	}
	sec := rep.Sections[0]
	if len(sec.Buttons) != 1 || sec.Buttons[0].Action != commands.ActionTemplateLaunch || sec.Buttons[0].Value != "template:default/new-service" {
		t.Errorf("templates go: buttons = %+v, want Launch template:default/new-service", sec.Buttons)
	}
	if got := sec.Fields; len(got) != 3 || got[0].Value != "create new-service" || got[1].Value != "team-a" || got[2].Value != "go, recommended" {
		t.Errorf("templates go: fields = %+v, want the command to type, owner team-a and tags", got)
	}

	// The Launch button and "create <name>" open the same first step.
	for _, req := range []*commands.Request{
		{Platform: commands.PlatformSlack, UserID: "U1", Action: &commands.Action{ID: commands.ActionTemplateLaunch, Value: "template:default/new-service"}},
		{Platform: commands.PlatformSlack, UserID: "U1", Text: "create new-service"},
	} {
		rep := r.Serve(ctx, req)
		f := rep.Form
		if f == nil {
			t.Fatalf("open: no form, reply %+v", rep)
		}
		if f.Action != commands.ActionTemplateSubmit || f.Step != 1 || f.Steps != 2 || len(f.State) > 3000 {
			t.Errorf("open: form action %q step %d/%d state %d bytes", f.Action, f.Step, f.Steps, len(f.State))
		}
		if want := []string{"name", "owner", "deployToken", "description", "features", "replicas"}; !reflect.DeepEqual(inputNames(f), want) {
			t.Errorf("open: inputs = %v, want %v", inputNames(f), want)
		}
		owner := input(t, f, "owner")
		if owner.Kind != commands.InputSelect || !owner.Required || len(owner.Options) != 2 || owner.Options[0].Value != "group:default/team-a" {
			t.Errorf("owner input = %+v, want a required select of the two groups", owner)
		}
		if in := input(t, f, "features"); in.Kind != commands.InputMultiSelect || len(in.Options) != 3 || in.Options[2].Label != "gRPC" {
			t.Errorf("features input = %+v, want a multi-select with enumNames labels", in)
		}
		if in := input(t, f, "replicas"); in.Kind != commands.InputInteger || !reflect.DeepEqual(in.Default, []string{"2"}) {
			t.Errorf("replicas input = %+v, want integer default 2", in)
		}
		if in := input(t, f, "description"); in.Kind != commands.InputMultiline {
			t.Errorf("description input kind = %q, want multiline", in.Kind)
		}
		if in := input(t, f, "name"); in.MaxLength != 40 || in.Hint == "" {
			t.Errorf("name input = %+v, want maxLength 40 and a hint", in)
		}
	}

	for _, typed := range []string{"new-serv", "new-servce", "nwe-service", "New-Servise"} {
		rep = r.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1", Text: "create " + typed})
		if rep.Form != nil || !strings.Contains(rep.Text, "did you mean new-service?") {
			t.Errorf("create %s = %q, want a did-you-mean naming new-service", typed, rep.Text)
		}
	}
}

func TestSubmitValidation(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	fake := newFakeBackstage(t)
	svc := newBackstageService(t, st, fake, nil)
	open, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1"}, "new-service")
	if err != nil {
		t.Fatal(err)
	}
	state := open.Form.State

	mod := func(f func(map[string][]string)) map[string][]string {
		v := step1()
		f(v)
		return v
	}
	tests := []struct {
		name   string
		values map[string][]string
		want   map[string]string // input -> message substring
	}{
		{"not a number", mod(func(v map[string][]string) { v["replicas"] = []string{"abc"} }), map[string]string{"replicas": "whole number"}},
		{"missing required", mod(func(v map[string][]string) { delete(v, "name") }), map[string]string{"name": "Required"}},
		{"schema and pickers", mod(func(v map[string][]string) {
			v["name"] = []string{"Bad Name!"}
			v["owner"] = []string{"group:default/nobody"}
			v["replicas"] = []string{"9"}
			v["features"] = []string{"metrics", "metrics"}
		}), map[string]string{"name": "letters, digits", "owner": "No group named nobody", "replicas": "9", "features": "tems at"}},
		{"wrong kind", mod(func(v map[string][]string) { v["owner"] = []string{"user:default/alice"} }), map[string]string{"owner": "Must be a Group"}},
		{"too long", mod(func(v map[string][]string) { v["name"] = []string{strings.Repeat("a", 41)} }), map[string]string{"name": "At most 40"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := svc.Submit(ctx, submitReq("alice", "", state, "", tt.values, nil))
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if rep.Form != nil {
				t.Fatalf("Submit moved on to step %d, want field errors %v", rep.Form.Step, tt.want)
			}
			for in, sub := range tt.want {
				if !strings.Contains(rep.FieldErrors[in], sub) {
					t.Errorf("Submit: FieldErrors[%q] = %q, want it to contain %q (all: %v)", in, rep.FieldErrors[in], sub, rep.FieldErrors)
				}
			}
			if len(rep.FieldErrors) != len(tt.want) {
				t.Errorf("Submit: FieldErrors = %v, want exactly %d", rep.FieldErrors, len(tt.want))
			}
		})
	}

	rep, err := svc.Submit(ctx, submitReq("alice", "", state, "", step1(), nil))
	if err != nil || rep.Form == nil || rep.Form.Step != 2 {
		t.Fatalf("Submit(valid step 1) = %+v, %v; want step 2", rep, err)
	}
	if strings.Contains(rep.Form.State, "s3cret") {
		t.Errorf("step 2 state carries the Secret field's value: %s", rep.Form.State)
	}
	host := input(t, rep.Form, "repoUrl.host")
	if host.Kind != commands.InputSelect || len(host.Options) != 1 || host.Options[0].Value != "git.example.com" {
		t.Errorf("repoUrl.host = %+v, want a select of the allowed host", host)
	}
	if in := input(t, rep.Form, "private"); in.Kind != commands.InputCheckbox || !reflect.DeepEqual(in.Default, []string{"true"}) {
		t.Errorf("private = %+v, want a checkbox defaulting to true", in)
	}
	bad := step2("my-svc")
	bad["repoUrl.host"] = []string{"github.com"}
	bad["repoUrl.owner"] = []string{"someone-else"}
	rep2, err := svc.Submit(ctx, submitReq("alice", "", rep.Form.State, "", bad, nil))
	if err != nil || !strings.Contains(rep2.FieldErrors["repoUrl.repo"], "Host must be one of git.example.com") {
		t.Errorf("Submit(bad host) = %+v, %v; want a host error on repoUrl.repo", rep2.FieldErrors, err)
	}
	if n := len(fake.tasks()); n != 0 {
		t.Errorf("invalid submissions launched %d tasks, want 0", n)
	}

	if _, err := svc.Submit(ctx, submitReq("alice", "", `{"t":"template:default/new-service","s":1,"v":{"name":"x y"}}`, "", step2("my-svc"), nil)); err == nil || !strings.Contains(err.Error(), "no longer pass") {
		t.Errorf("Submit(tampered state) error = %v, want a revalidation error", err)
	}
	if _, err := svc.Submit(ctx, submitReq("alice", "", "garbage", "", step1(), nil)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("Submit(garbage state) error = %v, want expired", err)
	}
}

func TestLaunchOnBackstage(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	fake := newFakeBackstage(t)
	svc := newBackstageService(t, st, fake, nil)
	open, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U-alice"}, "template:default/new-service")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	s2, err := svc.Submit(ctx, submitReq("alice", "alice@example.com", open.Form.State, "V1:a", step1(), rec))
	if err != nil || s2.Form == nil {
		t.Fatalf("Submit(step 1) = %+v, %v", s2, err)
	}

	// A repository the scaffolder refuses is named in the answer to the
	// review (whose form has no repository input to attach it to).
	takenReview, err := svc.Submit(ctx, submitReq("alice", "alice@example.com", s2.Form.State, "V2:taken", step2("taken"), rec))
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Submit(ctx, launchReq(t, takenReview, "alice", "alice@example.com", "R:taken", rec))
	var ue *commands.UserError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, "repository already exists") {
		t.Fatalf("launch(taken repo) error = %v; want the scaffolder's message", err)
	}

	// The review shows the values as the template receives them, secrets
	// by name only; Edit reopens the first step with them.
	review, err := svc.Submit(ctx, submitReq("alice", "alice@example.com", s2.Form.State, "V2:ok", step2("my-svc"), rec))
	if err != nil {
		t.Fatalf("Submit(step 2): %v", err)
	}
	intro := review.Form.Intro
	for _, want := range []string{"• repoUrl: git.example.com?owner=acme&repo=my-svc", "• replicas: 3", `• features: ["metrics","grpc"]`, "• deployToken: (secret, not shown)", "• dbPassword: (secret, not shown)"} {
		if !strings.Contains(intro, want) {
			t.Errorf("review intro lacks %q:\n%s", want, intro)
		}
	}
	if strings.Contains(intro, "s3cret") || strings.Contains(intro, "hunter2") {
		t.Errorf("review intro shows a secret:\n%s", intro)
	}
	edit, err := svc.Submit(ctx, submitReq("alice", "alice@example.com", review.Form.State, "R:edit", map[string][]string{"edit": {"true"}}, rec))
	if err != nil || edit.Form == nil || edit.Form.Step != 1 || !reflect.DeepEqual(input(t, edit.Form, "name").Default, []string{"my-svc"}) {
		t.Fatalf("review with edit = %+v, %v; want step 1 with the name filled in", edit.Form, err)
	}

	rep, err := svc.Submit(ctx, launchReq(t, review, "alice", "alice@example.com", "R:ok", rec))
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	if !strings.Contains(rep.Text, "task-1") || len(rep.Links) != 1 || rep.Links[0].URL != testPortal+"/create/tasks/task-1" {
		t.Errorf("Submit(step 2) = %+v, want the task and its link", rep)
	}
	tasks := fake.tasks()
	if len(tasks) != 1 {
		t.Fatalf("scaffolder got %d tasks, want 1", len(tasks))
	}
	got := tasks[0]
	if got.TemplateRef != "template:default/new-service" {
		t.Errorf("templateRef = %q, want template:default/new-service", got.TemplateRef)
	}
	wantValues := map[string]any{
		"name": "my-svc", "description": "Pays things", "owner": "group:default/team-a", "replicas": float64(3),
		"features": []any{"metrics", "grpc"}, "repoUrl": "git.example.com?owner=acme&repo=my-svc", "private": false, "dbPassword": "hunter2",
	}
	if !reflect.DeepEqual(got.Values, wantValues) {
		t.Errorf("values = %v, want %v", got.Values, wantValues)
	}
	wantSecrets := map[string]string{"deployToken": "s3cret", "portalbotUser": "slack:U-alice (alice)", "portalbotUserEmail": "alice@example.com"}
	if !reflect.DeepEqual(got.Secrets, wantSecrets) {
		t.Errorf("secrets = %v, want %v", got.Secrets, wantSecrets)
	}

	// The same submission again (a retry), and the same values under a new
	// key (a double click on a re-opened form), launch nothing.
	review2, err := svc.Submit(ctx, submitReq("alice", "alice@example.com", s2.Form.State, "V3:other", step2("my-svc"), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*commands.Request{launchReq(t, review, "alice", "alice@example.com", "R:ok", nil), launchReq(t, review2, "alice", "alice@example.com", "R:other", nil)} {
		key := req.Action.Form.Key
		again, err := svc.Submit(ctx, req)
		if err != nil || !strings.Contains(again.Text, "already") {
			t.Errorf("Submit(again, key %s) = %+v, %v; want a duplicate notice", key, again, err)
		}
	}
	if n := len(fake.tasks()); n != 1 {
		t.Errorf("after repeats the scaffolder has %d tasks, want 1", n)
	}

	final := rec.wait(t)
	if final.Title != "New Go service: completed" {
		t.Errorf("final follow-up title = %q", final.Title)
	}
	wantLinks := []commands.Link{{Text: "Repository", URL: "https://git.example.com/acme/my-svc"}, {Text: "Open in catalog", URL: testPortal + "/catalog/default/component/my-svc"}}
	if !reflect.DeepEqual(final.Links, wantLinks) {
		t.Errorf("final links = %+v, want %+v", final.Links, wantLinks)
	}
	var progress []string
	for _, r := range rec.all() {
		if !r.InChannel {
			progress = append(progress, r.Text)
		}
	}
	if !reflect.DeepEqual(progress, []string{"New Go service: Render skeleton completed"}) {
		t.Errorf("progress follow-ups = %q", progress)
	}
	svc.Close() // waits for the follow-up goroutine to record the result

	var rows []struct {
		Key    string `db:"key"`
		User   string `db:"user_id"`
		Values string `db:"values_json"`
		Task   string `db:"task_id"`
		Status string `db:"status"`
		Detail string `db:"detail"`
	}
	if err := st.DB().SelectContext(ctx, &rows, "SELECT key, user_id, values_json, task_id, status, detail FROM template_launches ORDER BY created_at, key"); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("audit rows = %+v, want the refused launch and the launched one", rows)
	}
	var ok, refused = rows[0], rows[1]
	if ok.Key != "s:V2:ok" {
		ok, refused = refused, ok
	}
	if ok.Task != "task-1" || ok.Status != "completed" || ok.User != "slack:U-alice (alice)" {
		t.Errorf("audit row = %+v, want task-1 completed by alice", ok)
	}
	if !strings.Contains(ok.Values, `"dbPassword":"***"`) || strings.Contains(ok.Values, "hunter2") || strings.Contains(ok.Values, "s3cret") {
		t.Errorf("audit values = %s, want secrets masked", ok.Values)
	}
	if refused.Status != "failed" || !strings.Contains(refused.Detail, "already exists") {
		t.Errorf("refused audit row = %+v, want failed with the scaffolder's message", refused)
	}
}

func TestPermissions(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	svc := newBackstageService(t, st, newFakeBackstage(t), []scaffolder.Rule{
		{Templates: []string{"new-service"}, Groups: []string{"group:team-a"}},
		{Tags: []string{"restricted"}, Users: []string{"U-root"}},
	})
	tests := []struct {
		user, email string
		allowed     bool
	}{
		{"alice", "alice@example.com", true}, // member of team-a
		{"alice", "ALICE@example.com", true}, // emails compare case-insensitively
		{"bob", "bob@example.com", false},    // member of team-b only
		{"mallory", "", false},               // unknown email: no groups
		{"alice", "", false},                 // a name alone proves nothing
	}
	for _, tt := range tests {
		req := &commands.Request{Platform: commands.PlatformSlack, UserID: "U-" + tt.user, UserName: tt.user, UserEmail: tt.email}
		_, err := svc.Open(ctx, req, "new-service")
		var ue *commands.UserError
		if tt.allowed && err != nil || !tt.allowed && (!errors.As(err, &ue) || !strings.Contains(ue.Msg, "not allowed")) {
			t.Errorf("Open(new-service) as %s <%s>: err = %v, want allowed %v", tt.user, tt.email, err, tt.allowed)
		}
		list, err := svc.List(ctx, req, "")
		if err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, s := range list.Sections {
			listed = listed || s.Title == "New Go service"
		}
		if listed != tt.allowed {
			t.Errorf("List as %s <%s> lists new-service: %v, want %v", tt.user, tt.email, listed, tt.allowed)
		}
	}
	// Templates no rule names stay open to everyone.
	if _, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformDiscord, UserID: "D1"}, "escape"); err != nil {
		t.Errorf("Open(escape) as anyone: %v", err)
	}
}

// TestLaunchErrorIsNotShown checks that a launcher's raw error (here a
// refused connection naming the Backstage host) reaches the log, not the
// chat user.
func TestLaunchErrorIsNotShown(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	svc := scaffolder.New(scaffolder.Params{
		Store: st, Audit: st, PortalURL: testPortal, Logger: logger,
		Launcher: scaffolder.NewBackstage("http://127.0.0.1:1", "test-token", nil, logger),
	})
	t.Cleanup(svc.Close)
	r := commands.New(commands.Params{Store: st, PortalURL: testPortal, Logger: slog.New(slog.DiscardHandler), Templates: svc})
	open := r.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1", Text: "create new-service"})
	if open.Form == nil {
		t.Fatalf("create new-service = %+v, want a form", open)
	}
	s2 := r.Serve(ctx, submitReq("alice", "", open.Form.State, "k1", step1(), nil))
	if s2.Form == nil {
		t.Fatalf("step 1 = %+v, want step 2", s2)
	}
	rev := r.Serve(ctx, submitReq("alice", "", s2.Form.State, "k2", step2("my-svc"), nil))
	done := r.Serve(ctx, launchReq(t, rev, "alice", "", "k3", nil))
	if !strings.Contains(done.Text, "Could not launch New Go service") || strings.Contains(done.Text, "127.0.0.1") || strings.Contains(done.Text, "refused") {
		t.Errorf("launch against a closed port = %q, want a short message without the raw error", done.Text)
	}
	if !strings.Contains(logs.String(), "127.0.0.1:1") {
		t.Errorf("log = %q, want the raw error logged", logs.String())
	}
}

// TestProgressUpdatesOneMessage checks that finished steps go to the
// request's one progress message when the transport can edit it, and not
// as a follow-up each.
func TestProgressUpdatesOneMessage(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	fake := newFakeBackstage(t)
	svc := newBackstageService(t, st, fake, nil)
	open, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U-alice"}, "new-service")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	s2, err := svc.Submit(ctx, submitReq("alice", "", open.Form.State, "k1", step1(), rec))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := svc.Submit(ctx, submitReq("alice", "", s2.Form.State, "k2", step2("my-svc"), rec))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var updates []commands.Reply
	req := launchReq(t, rev, "alice", "", "k3", rec)
	req.Progress = func(_ context.Context, r commands.Reply) error {
		mu.Lock()
		defer mu.Unlock()
		updates = append(updates, r)
		return nil
	}
	if _, err := svc.Submit(ctx, req); err != nil {
		t.Fatal(err)
	}
	if final := rec.wait(t); final.Title != "New Go service: completed" {
		t.Errorf("final follow-up = %+v, want completed", final)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(updates) != 1 || updates[0].Title != "New Go service (task task-1)" || updates[0].Text != "Render skeleton completed" {
		t.Errorf("progress updates = %+v, want one naming the finished step", updates)
	}
	if all := rec.all(); len(all) != 1 {
		t.Errorf("follow-ups = %+v, want only the result", all)
	}
}
