package scaffolder_test

import (
	"context"
	"errors"

	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/scaffolder"
)

// gitSource commits testdata/templates to a fresh Git repository and serves
// skeletons from a clone of that commit, as the sync job's cache would.
type gitSource struct {
	repo string
	tmp  func() string
}

func newGitSource(t *testing.T) *gitSource {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "templates")
	if err := os.CopyFS(dir, os.DirFS("testdata/templates")); err != nil {
		t.Fatal(err)
	}
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Now()}
	if _, err := wt.Commit("templates", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
	return &gitSource{repo: dir, tmp: t.TempDir}
}

func (g *gitSource) SourceFS(ctx context.Context, origin catalog.Origin) (fs.FS, error) {
	if origin.Source != "templates" {
		return nil, errors.New("unknown source " + origin.Source)
	}
	dst := g.tmp()
	if _, err := git.PlainCloneContext(ctx, dst, false, &git.CloneOptions{URL: g.repo}); err != nil {
		return nil, err
	}
	return os.DirFS(dst), nil
}

type runnerEnv struct {
	store   *sqlstore.Store
	svc     *scaffolder.Service
	runner  *scaffolder.Runner
	publish string
	work    string
}

func newRunnerEnv(t *testing.T) *runnerEnv {
	t.Helper()
	return newRunnerEnvOn(t, newStore(t))
}

// newRunnerEnvOn is newRunnerEnv on st, which must hold the fixtures
// (loadFixtures).
func newRunnerEnvOn(t *testing.T, st *sqlstore.Store) *runnerEnv {
	t.Helper()
	e := &runnerEnv{store: st, publish: filepath.Join(t.TempDir(), "published"), work: t.TempDir()}
	e.runner = scaffolder.NewRunner(scaffolder.RunnerParams{
		Store: e.store, Files: newGitSource(t), PublishBase: e.publish, WorkDir: e.work,
		Logger: slog.New(slog.DiscardHandler),
	})
	e.svc = scaffolder.New(scaffolder.Params{Store: e.store, Launcher: e.runner, Audit: e.store, PortalURL: testPortal})
	t.Cleanup(func() {
		e.svc.Close()
		e.runner.Close()
	})
	return e
}

func TestRunnerCreatesRepositoryAndRegisters(t *testing.T) {
	ctx := context.Background()
	e := newRunnerEnv(t)
	r := commands.New(commands.Params{Store: e.store, PortalURL: testPortal, Logger: slog.New(slog.DiscardHandler), Templates: e.svc})
	rec := newRecorder()
	open := r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "alice", Text: "create new-service"})
	if open.Form == nil {
		t.Fatalf("create new-service = %+v, want a form", open)
	}
	s2 := r.Serve(ctx, submitReq("alice", "alice@example.com", open.Form.State, "k1", step1(), rec))
	if s2.Form == nil {
		t.Fatalf("step 1 = %+v, want step 2", s2)
	}
	rev := r.Serve(ctx, submitReq("alice", "alice@example.com", s2.Form.State, "k2", step2("my-svc"), rec))
	done := r.Serve(ctx, launchReq(t, rev, "alice", "alice@example.com", "k3", rec))
	if !strings.HasPrefix(done.Text, "Launched New Go service (task run-") {
		t.Fatalf("step 2 = %+v, want a launch", done)
	}
	final := rec.wait(t)
	if final.Title != "New Go service: completed" {
		t.Fatalf("final follow-up = %+v, want completed; all: %+v", final, rec.all())
	}
	bare := filepath.Join(e.publish, "acme", "my-svc.git")
	wantLinks := []commands.Link{{Text: "Repository", URL: "file://" + filepath.ToSlash(bare)}, {Text: "Open in catalog", URL: testPortal + "/catalog/default/component/my-svc"}}
	if len(final.Links) != 2 || final.Links[0] != wantLinks[0] || final.Links[1] != wantLinks[1] {
		t.Errorf("final links = %+v, want %+v", final.Links, wantLinks)
	}
	if !strings.Contains(final.Text, "Clone my-svc and run go build.") {
		t.Errorf("final text = %q, want the rendered output text", final.Text)
	}

	repo, err := git.PlainOpen(bare)
	if err != nil {
		t.Fatalf("open published repository: %v", err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil {
		t.Fatalf("published repository has no main: %v", err)
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if commit.Message != "Create my-svc" || commit.Author.Email != "alice@example.com" {
		t.Errorf("commit = %q by %s, want Create my-svc by alice@example.com", commit.Message, commit.Author.Email)
	}
	files := map[string]string{}
	iter, err := commit.Files()
	if err != nil {
		t.Fatal(err)
	}
	if err := iter.ForEach(func(f *object.File) error {
		c, err := f.Contents()
		files[f.Name] = c
		return err
	}); err != nil {
		t.Fatal(err)
	}
	wantFiles := map[string][]string{
		"catalog-info.yaml":  {"name: my-svc", "owner: group:default/team-a", "description: Pays things"},
		"README.md":          {"# my-svc", "Replicas: 3", "Features: metrics, grpc", "Repository: my-svc"},
		"cmd/my-svc/main.go": {"// Command my-svc is a new service."},
	}
	for name, subs := range wantFiles {
		c, ok := files[name]
		if !ok {
			t.Errorf("published files %v lack %s", keys(files), name)
			continue
		}
		for _, s := range subs {
			if !strings.Contains(c, s) {
				t.Errorf("published %s = %q, want it to contain %q", name, c, s)
			}
		}
	}
	if len(files) != len(wantFiles) {
		t.Errorf("published files = %v, want %d", keys(files), len(wantFiles))
	}

	// catalog:register made the component answerable at once.
	owner := r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "alice", Text: "owner my-svc"})
	if !strings.Contains(owner.Text+fieldsText(owner), "team-a") {
		t.Errorf("owner my-svc = %+v, want team-a", owner)
	}
	ent, err := e.store.Entity(ctx, catalog.MustParseRef("component:default/my-svc"))
	if err != nil {
		t.Fatalf("registered component: %v", err)
	}
	if o, _ := ent.Owner(); o.String() != "group:default/team-a" || ent.Origin.Source != "acme/my-svc" {
		t.Errorf("registered component owner %s source %q, want group:default/team-a from acme/my-svc", o, ent.Origin.Source)
	}
	if entries, _ := os.ReadDir(e.work); len(entries) != 0 {
		t.Errorf("workspace left behind: %v", entries)
	}
}

func TestRunnerRefusesPathEscapes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, dir, skeleton string
	}{
		{"file name", "../../../outside", "./skeleton"},
		{"absolute file name", "/tmp/outside", "./skeleton"},
		{"skeleton url", "x", "../../../../etc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRunnerEnv(t)
			open, err := e.svc.Open(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "u"}, "escape")
			if err != nil {
				t.Fatal(err)
			}
			rec := newRecorder()
			rev, err := e.svc.Submit(ctx, submitReq("u", "", open.Form.State, "k", map[string][]string{"dir": {tt.dir}, "skeleton": {tt.skeleton}}, rec))
			if err != nil {
				t.Fatalf("Submit: %v (%+v)", err, rev)
			}
			rep, err := e.svc.Submit(ctx, launchReq(t, rev, "u", "", "k2", rec))
			if err != nil {
				t.Fatalf("Submit: %v (%+v)", err, rep)
			}
			final := rec.wait(t)
			if final.Title != "Escape attempt: failed" || !strings.Contains(final.Text, "escapes the workspace") {
				t.Errorf("final = %+v, want failed with a path escape", final)
			}
			for _, p := range []string{filepath.Join(filepath.Dir(e.work), "outside"), "/tmp/outside/x.txt"} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

// TestRunnerUnsupportedAction checks that a template the built-in runner
// cannot run is refused when the form would open, not after its last step.
func TestRunnerUnsupportedAction(t *testing.T) {
	ctx := context.Background()
	e := newRunnerEnv(t)
	_, err := e.svc.Open(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "u"}, "github-only")
	var ue *commands.UserError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, "does not support publish:github (step publish)") || !strings.Contains(ue.Msg, "PORTALBOT_BACKSTAGE_URL") {
		t.Errorf("Open(github-only) error = %v, want one naming publish:github and PORTALBOT_BACKSTAGE_URL", err)
	}
}

// TestRunnerPreflightSetup checks that Open names the missing setting of
// the built-in runner before the first form step.
func TestRunnerPreflightSetup(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	tests := []struct {
		name string
		p    scaffolder.RunnerParams
		want string
	}{
		{"no publish base", scaffolder.RunnerParams{Store: st, Files: newGitSource(t)}, "templates.publish_base"},
		{"no skeleton source", scaffolder.RunnerParams{Store: st, PublishBase: t.TempDir()}, "skeleton"},
	}
	for _, tt := range tests {
		runner := scaffolder.NewRunner(tt.p)
		svc := scaffolder.New(scaffolder.Params{Store: st, Launcher: runner})
		rep, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "u"}, "new-service")
		var ue *commands.UserError
		if !errors.As(err, &ue) || !strings.Contains(ue.Msg, tt.want) || !strings.Contains(ue.Msg, "New Go service") {
			t.Errorf("%s: Open(new-service) = %+v, %v, want an error naming %q", tt.name, rep.Form, err, tt.want)
		}
		svc.Close()
		runner.Close()
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func fieldsText(r commands.Reply) string {
	var b strings.Builder
	for _, f := range r.Fields {
		b.WriteString(f.Name + ": " + f.Value + "\n")
	}
	for _, s := range r.Sections {
		b.WriteString(s.Title + " " + s.Text + "\n")
	}
	return b.String()
}
