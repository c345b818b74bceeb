package scaffolder_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/commands"
)

// TestRunnerValuesAreData runs new-service, whose skeleton catalog-info.yaml
// interpolates ${{ values.description }} (a textarea, so line breaks are
// allowed), with descriptions that would add a document or a key to the
// rendered file. The old runner pasted them in as YAML: the first
// registered a User that then passed a template's group permission check.
// The run must fail and register nothing.
func TestRunnerValuesAreData(t *testing.T) {
	tests := []struct {
		name, description string
		want              string // in the run's error
	}{
		// Completes the component, adds a User, and hides the rest of the
		// skeleton in a document that is not a descriptor.
		{"document", "Pays things\nspec:\n  type: service\n  lifecycle: experimental\n  owner: group:default/team-a\n---\n" +
			"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: mallory\nspec:\n  profile:\n    email: mallory@example.com\n  memberOf: [team-a]\n---\nignored:",
			"changes its YAML structure"},
		{"key", "Pays things\n  annotations:\n    backstage.io/managed-by-location: url:https://evil.example.com", "changes its YAML structure"},
	}
	for _, tt := range tests {
		for dialect, open := range sqlstoretest.Stores() {
			t.Run(tt.name+"/"+dialect, func(t *testing.T) {
				runHostileValue(t, newRunnerEnvOn(t, loadFixtures(t, open(t))), tt.description, tt.want)
			})
		}
	}
}

// runHostileValue runs new-service in e with description and checks that
// the run fails saying want and registers nothing.
func runHostileValue(t *testing.T, e *runnerEnv, description, want string) {
	t.Helper()
	ctx := context.Background()
	before, err := e.store.Entities(ctx, catalog.Query{})
	if err != nil {
		t.Fatal(err)
	}
	r := commands.New(commands.Params{Store: e.store, PortalURL: testPortal, Logger: slog.New(slog.DiscardHandler), Templates: e.svc})
	rec := newRecorder()
	open := r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "alice", Text: "create new-service"})
	if open.Form == nil {
		t.Fatalf("create new-service = %+v, want a form", open)
	}
	v := step1()
	v["description"] = []string{description}
	s2 := r.Serve(ctx, submitReq("alice", "alice@example.com", open.Form.State, "k1", v, rec))
	if s2.Form == nil {
		t.Fatalf("step 1 = %+v, want step 2", s2)
	}
	rev := r.Serve(ctx, submitReq("alice", "alice@example.com", s2.Form.State, "k2", step2("my-svc"), rec))
	r.Serve(ctx, launchReq(t, rev, "alice", "alice@example.com", "k3", rec))
	final := rec.wait(t)
	if final.Title != "New Go service: failed" || !strings.Contains(final.Text, want) {
		t.Errorf("final follow-up = %+v, want failed saying %q", final, want)
	}
	after, err := e.store.Entities(ctx, catalog.Query{})
	if err != nil {
		t.Fatal(err)
	}
	had := map[string]bool{}
	for _, b := range before {
		had[b.Ref().String()] = true
	}
	for _, a := range after {
		if !had[a.Ref().String()] {
			t.Errorf("the run registered %s, want nothing", a.Ref())
		}
	}
	if _, err := e.store.Entity(ctx, catalog.MustParseRef("user:mallory")); err == nil {
		t.Errorf("Entity(user:mallory) exists, want no entity from a value")
	}
}

// TestSingleLineFields checks that a line break in a single-line string
// field is a field error at submit, before anything runs.
func TestSingleLineFields(t *testing.T) {
	ctx := context.Background()
	e := newRunnerEnv(t)
	open, err := e.svc.Open(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "u"}, "escape")
	if err != nil {
		t.Fatal(err)
	}
	for _, brk := range []string{"\n", "\r", "\u2028", "\u0085"} {
		rep, err := e.svc.Submit(ctx, submitReq("u", "", open.Form.State, "k", map[string][]string{"dir": {"x" + brk + "---"}, "skeleton": {"./skeleton"}}, nil))
		if err != nil {
			t.Fatalf("Submit(dir with %q): %v", brk, err)
		}
		if msg := rep.FieldErrors["dir"]; !strings.Contains(msg, "single line") {
			t.Errorf("Submit(dir with %q) field errors = %v, want dir: a single line", brk, rep.FieldErrors)
		}
	}
}
