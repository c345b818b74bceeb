package scaffolder_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
)

const testPortal = "https://portal.example.com"

// newStore returns a SQLite store holding testdata/catalog (source "org")
// and testdata/templates (source "templates").
func newStore(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	return loadFixtures(tb, sqlstoretest.OpenSQLite(tb))
}

// loadFixtures loads testdata/catalog and testdata/templates into st.
func loadFixtures(tb testing.TB, st *sqlstore.Store) *sqlstore.Store {
	tb.Helper()
	catalogtest.LoadDir(tb, st, "org", "testdata/catalog")
	catalogtest.LoadDir(tb, st, "templates", "testdata/templates")
	return st
}

// taskRequest is the body of POST /api/scaffolder/v2/tasks.
type taskRequest struct {
	TemplateRef string            `json:"templateRef"`
	Values      map[string]any    `json:"values"`
	Secrets     map[string]string `json:"secrets"`
}

// fakeBackstage speaks the scaffolder's task API: it accepts tasks, refuses
// a repoUrl naming repo "taken" with a 400 like Backstage's, and streams
// two step events and a completion for every task.
type fakeBackstage struct {
	*httptest.Server
	mu    sync.Mutex
	posts []taskRequest // guarded by mu
}

func newFakeBackstage(t *testing.T) *fakeBackstage {
	f := &fakeBackstage{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/scaffolder/v2/tasks", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer test-token" {
			http.Error(w, `{"error":{"name":"AuthenticationError","message":"no token"}}`, http.StatusUnauthorized)
			return
		}
		var req taskRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if u, _ := req.Values["repoUrl"].(string); strings.Contains(u, "repo=taken") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":[{"path":["repoUrl"],"property":"instance.repoUrl","message":"repository already exists","name":"pattern","argument":"^x$","stack":"instance.repoUrl repository already exists"}]}`)
			return
		}
		f.mu.Lock()
		f.posts = append(f.posts, req)
		id := fmt.Sprintf("task-%d", len(f.posts))
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	})
	mux.HandleFunc("GET /api/scaffolder/v2/tasks/{id}/eventstream", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer test-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.PathValue("id")
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		frames := []string{
			`{"id":1,"taskId":"` + id + `","type":"log","body":{"message":"Beginning step Render skeleton","stepId":"fetch","status":"processing"},"createdAt":"2025-01-01T00:00:00Z"}`,
			`{"id":2,"taskId":"` + id + `","type":"log","body":{"message":"Finished step Render skeleton","stepId":"fetch","status":"completed"},"createdAt":"2025-01-01T00:00:01Z"}`,
			`{"id":3,"taskId":"` + id + `","type":"completion","body":{"message":"Run completed with status: completed","output":{"links":[{"title":"Repository","url":"https://git.example.com/acme/my-svc"},{"title":"Open in catalog","icon":"catalog","entityRef":"component:default/my-svc"}]}},"createdAt":"2025-01-01T00:00:02Z"}`,
		}
		types := []string{"log", "log", "completion"}
		for i, fr := range frames {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", types[i], fr)
			fl.Flush()
		}
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBackstage) tasks() []taskRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]taskRequest(nil), f.posts...)
}

// recorder is a Request.Followup that keeps what was posted.
type recorder struct {
	mu      sync.Mutex
	replies []commands.Reply // guarded by mu
	final   chan commands.Reply
}

func newRecorder() *recorder { return &recorder{final: make(chan commands.Reply, 10)} }

func (r *recorder) followup(_ context.Context, rep commands.Reply) error {
	r.mu.Lock()
	r.replies = append(r.replies, rep)
	r.mu.Unlock()
	if rep.InChannel || strings.HasPrefix(rep.Text, "Lost track") {
		r.final <- rep
	}
	return nil
}

func (r *recorder) all() []commands.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]commands.Reply(nil), r.replies...)
}

func (r *recorder) wait(t *testing.T) commands.Reply {
	t.Helper()
	select {
	case rep := <-r.final:
		return rep
	case <-time.After(20 * time.Second):
		t.Fatalf("no final follow-up; got %+v", r.all())
	}
	return commands.Reply{}
}

// submitReq builds the request an adapter sends for a submitted form.
func submitReq(user, email, state, key string, values map[string][]string, rec *recorder) *commands.Request {
	req := &commands.Request{
		Platform: commands.PlatformSlack, UserID: "U-" + user, UserName: user, UserEmail: email, ChannelID: "C1",
		Action: &commands.Action{ID: commands.ActionTemplateSubmit, Form: &commands.Submission{State: state, Values: values, Key: key}},
	}
	if rec != nil {
		req.Followup = rec.followup
	}
	return req
}

func inputNames(f *commands.Form) []string {
	var names []string
	for _, in := range f.Inputs {
		names = append(names, in.Name)
	}
	return names
}

func input(t *testing.T, f *commands.Form, name string) commands.Input {
	t.Helper()
	for _, in := range f.Inputs {
		if in.Name == name {
			return in
		}
	}
	t.Fatalf("form has no input %q; inputs: %v", name, inputNames(f))
	return commands.Input{}
}

// step1 are valid values for new-service's first step.
func step1() map[string][]string {
	return map[string][]string{
		"name":        {"my-svc"},
		"description": {"Pays things"},
		"owner":       {"group:default/team-a"},
		"replicas":    {"3"},
		"features":    {"metrics", "grpc"},
		"deployToken": {"s3cret"},
	}
}

// step2 are valid values for new-service's second step.
func step2(repo string) map[string][]string {
	return map[string][]string{
		"repoUrl.host":  {"git.example.com"},
		"repoUrl.owner": {"acme"},
		"repoUrl.repo":  {repo},
		"private":       {"false"},
		"dbPassword":    {"hunter2"},
	}
}

// launchReq is the submission of rep's review form unchanged, as when a
// user presses Launch on it; it fails the test when rep is not a review.
func launchReq(t *testing.T, rep commands.Reply, user, email, key string, rec *recorder) *commands.Request {
	t.Helper()
	if rep.Form == nil || !strings.HasPrefix(rep.Form.Title, "Review: ") {
		t.Fatalf("last step = %+v, want the review form", rep)
	}
	return submitReq(user, email, rep.Form.State, key, map[string][]string{"edit": {"false"}}, rec)
}
