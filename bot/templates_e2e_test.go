package bot

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"

	"github.com/portalbot/portalbot/adapters/console"
	"github.com/portalbot/portalbot/bot/demo"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/commands"
)

// transcript is a console's output, safe to read while the console writes.
type transcript struct {
	mu sync.Mutex
	b  strings.Builder
}

func (t *transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}

// waitOutput polls out until it contains want after offset from, failing after
// 10 s; it returns the offset just past want.
func waitOutput(t *testing.T, out *transcript, from int, want string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := out.String()
		if i := strings.Index(s[from:], want); i >= 0 {
			return from + i + len(want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("console output lacks %q after 10s:\n%s", want, s[from:])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBuiltinRunnerThroughConsole launches the demo's go-service template
// with the built-in runner (no Backstage configured), as serve and demo
// wire it: the console fills the two-step form, the runner renders the
// skeleton from the synced Git repository into a new Git repository and
// registers its component, and owner answers for it at once, in the same
// console and from ask on the same database.
func TestBuiltinRunnerThroughConsole(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	repoDir := filepath.Join(work, "catalog")
	if _, err := demo.WriteRepo(repoDir); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DB = "sqlite:" + filepath.Join(work, "portalbot.db")
	cfg.PortalURL = "https://portal.acme.example"
	cfg.Templates.PublishBase = filepath.Join(work, "published")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	env := &Env{Getenv: func(string) string { return "" }}
	st, err := openStore(ctx, env, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logger := slog.New(slog.DiscardHandler)
	syncer := ingest.New(st, ingest.Options{CacheDir: filepath.Join(work, "cache"), Logger: logger})
	if _, err := syncer.Sync(ctx, ingest.Source{Name: demoSource, Repo: repoDir}); err != nil {
		t.Fatal(err)
	}
	a := &App{Config: cfg, Env: env, Logger: logger, Store: st, Mux: http.NewServeMux(), Posters: map[string]commands.Poster{}, Syncer: syncer}
	r, closeRouter := newRouter(a)
	defer closeRouter()

	in, typed := io.Pipe()
	out := &transcript{}
	c := console.New(r, in, out, console.Options{UserName: "demo"})
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		typed.Close()
		if err := <-done; err != nil {
			t.Errorf("console Run: %v", err)
		}
	}()
	say := func(line string) {
		if _, err := io.WriteString(typed, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}

	// Answer the form's prompts by label, in whatever order it asks.
	answers := map[string]string{
		"Name":                        "inventory-api",
		"Description":                 "Keeps the stock.",
		"Owner":                       "group:default/payments",
		"Go version":                  "",
		"HTTP port":                   "9090",
		"Needs a PostgreSQL database": "yes",
		// The review after the last step: no change, so it launches.
		"Change something first": "no",
	}
	pos := waitOutput(t, out, 0, "portal> ")
	say("create go-service")
	asked := map[string]bool{}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s := out.String()
		if strings.Contains(s[pos:], "Please fix") {
			t.Fatalf("the form rejected valid answers:\n%s", s[pos:])
		}
		if strings.Contains(s[pos:], "\nportal> ") {
			break // the form is done and the console waits for a command
		}
		if strings.HasSuffix(s, ": ") && len(s) > pos {
			last := s[strings.LastIndex(s, "\n")+1:]
			label := ""
			for l := range answers {
				if strings.HasPrefix(last, l) && len(l) > len(label) {
					label = l
				}
			}
			if label == "" || asked[label] {
				t.Fatalf("unexpected prompt %q:\n%s", last, s[pos:])
			}
			asked[label] = true
			pos = len(s)
			say(answers[label])
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("console stuck:\n%s", s[pos:])
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(asked) != len(answers) {
		t.Errorf("the form asked %v, want every one of %d inputs", asked, len(answers))
	}
	pos = waitOutput(t, out, 0, "Launched Go service")
	// The run's progress and result are printed by the follow-up.
	res := waitOutput(t, out, waitOutput(t, out, pos, "Register in the catalog "), "\nGo service: ")
	if s := out.String(); !strings.HasPrefix(s[res:], "completed") {
		t.Fatalf("the run did not complete:\n%s", s[pos:])
	}

	// The new component answers at once, in the console…
	say("owner inventory-api")
	waitOutput(t, out, pos, "inventory-api is owned by Payments Team")

	// …and from another process on the same database.
	var stdout, stderr strings.Builder
	askEnv := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := Main(ctx, []string{"ask", "--db", cfg.DB, "who owns inventory-api"}, askEnv); code != ExitOK {
		t.Fatalf("ask exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "inventory-api is owned by Payments Team") {
		t.Errorf("ask answer:\n%s\nwant inventory-api owned by Payments Team", stdout.String())
	}

	// The published repository is a real Git repository holding the
	// rendered skeleton.
	var repos []string
	filepath.WalkDir(cfg.Templates.PublishBase, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasSuffix(p, ".git") {
			repos = append(repos, p)
			return filepath.SkipDir
		}
		return err
	})
	if len(repos) != 1 || filepath.Base(repos[0]) != "inventory-api.git" {
		t.Fatalf("published repositories = %v, want inventory-api.git", repos)
	}
	g, err := git.PlainOpen(repos[0])
	if err != nil {
		t.Fatal(err)
	}
	head, err := g.Head()
	if err != nil {
		t.Fatalf("published repository has no HEAD: %v", err)
	}
	commit, err := g.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	f, err := commit.File("catalog-info.yaml")
	if err != nil {
		t.Fatalf("published tree lacks catalog-info.yaml: %v", err)
	}
	body, err := f.Contents()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: inventory-api", "owner: group:default/payments"} {
		if !strings.Contains(body, want) {
			t.Errorf("published catalog-info.yaml lacks %q:\n%s", want, body)
		}
	}
	if _, err := commit.File("go.mod.njk"); err == nil {
		t.Error("published tree holds an unrendered go.mod.njk")
	}
	if gomod, err := commit.File("go.mod"); err != nil {
		t.Errorf("published tree lacks go.mod: %v", err)
	} else if s, _ := gomod.Contents(); !strings.Contains(s, "inventory-api") {
		t.Errorf("go.mod = %q, want the module named after the service", s)
	}
}
