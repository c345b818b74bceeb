package scaffolder

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/portalbot/portalbot/catalog"
)

// SourceFiles gives the files of the Git source an entity was read from, at
// the commit it was read at, rooted at the repository root. The bot wires it
// to the sync job's Git cache; fetch:template reads skeletons through it.
type SourceFiles interface {
	SourceFS(ctx context.Context, origin catalog.Origin) (fs.FS, error)
}

// RunnerParams are the dependencies of the built-in runner.
type RunnerParams struct {
	// Store receives catalog:register's entities. Required.
	Store catalog.Store
	// Files gives skeletons to fetch:template; nil makes fetch:template fail.
	Files SourceFiles
	// PublishBase is where publish:git creates repositories: a directory of
	// bare repositories, or a remote URL prefix (https://, ssh://, file://).
	// Empty makes publish:git fail with a message saying so.
	PublishBase string
	// PublishAuth authenticates pushes to a remote PublishBase; nil means none.
	PublishAuth transport.AuthMethod
	// WorkDir holds the runs' temporary workspaces; empty means os.TempDir().
	WorkDir string
	// Timeout bounds one run; zero means 10 minutes.
	Timeout time.Duration
	Logger  *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Runner runs templates in-process with the core actions: fetch:template,
// publish:git, catalog:register and debug:log. It is safe for concurrent
// use; Close stops the runs in progress.
type Runner struct {
	p      RunnerParams
	logger *slog.Logger
	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	tasks map[string]*task // guarded by mu
}

// Supported built-in actions.
var builtinActions = map[string]bool{
	"fetch:template":   true,
	"publish:git":      true,
	"catalog:register": true,
	"debug:log":        true,
}

// NewRunner returns a built-in runner.
func NewRunner(p RunnerParams) *Runner {
	if p.Timeout == 0 {
		p.Timeout = 10 * time.Minute
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Runner{p: p, logger: p.Logger.With("component", "scaffolder/runner"), stop: stop, cancel: cancel, tasks: map[string]*task{}}
}

// Close cancels the runs in progress and waits for them to end.
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
}

// task is one run's progress, read by follow.
type task struct {
	mu     sync.Mutex
	events []event       // guarded by mu
	notify chan struct{} // closed and replaced on each event; guarded by mu
	done   chan struct{} // closed when result is set
	result result        // set before done is closed
	ended  time.Time     // guarded by mu
}

func (t *task) emit(e event) {
	t.mu.Lock()
	t.events = append(t.events, e)
	close(t.notify)
	t.notify = make(chan struct{})
	t.mu.Unlock()
}

// finishedTaskTTL is how long a finished run stays followable.
const finishedTaskTTL = time.Hour

// preflight implements preflighter: it names the actions this runner
// lacks and the settings it needs (PublishBase for publish:git, a skeleton
// source for fetch:template) among the steps that will run whatever the
// values; steps whose if depends on the values are checked at launch.
func (r *Runner) preflight(t *template) error {
	return r.check(t, func(st actionStep) bool {
		b, ok := st.If.(bool)
		return st.If != nil && (!ok || !b)
	})
}

// check returns a *setupError for the steps of t that skip does not rule
// out, or nil.
func (r *Runner) check(t *template, skip func(actionStep) bool) error {
	var bad []string
	needPublish, needFiles := false, false
	for _, st := range t.Steps {
		if skip(st) {
			continue
		}
		switch {
		case !builtinActions[st.Action]:
			bad = append(bad, fmt.Sprintf("%s (step %s)", st.Action, st.ID))
		case st.Action == "publish:git" && r.p.PublishBase == "":
			needPublish = true
		case st.Action == "fetch:template" && r.p.Files == nil:
			needFiles = true
		}
	}
	var why []string
	if len(bad) > 0 {
		why = append(why, fmt.Sprintf("the built-in runner does not support %s; an admin can connect a Backstage scaffolder (PORTALBOT_BACKSTAGE_URL and PORTALBOT_BACKSTAGE_TOKEN) to run it", strings.Join(bad, ", ")))
	}
	if needPublish {
		why = append(why, "the built-in runner has nowhere to publish repositories; an admin sets templates.publish_base")
	}
	if needFiles {
		why = append(why, "the built-in runner has no catalog source to read skeleton files from; an admin configures the template's source for syncing")
	}
	if len(why) == 0 {
		return nil
	}
	return &setupError{Msg: fmt.Sprintf("This bot cannot launch %s yet: %s.", t.Title, strings.Join(why, ". Also, "))}
}

// launch checks that every action of the template is supported and set
// up, then starts the run in the background. A template using other
// actions fails at once with a *setupError naming them, before anything is
// created.
func (r *Runner) launch(ctx context.Context, run templateRun) (string, error) {
	if err := r.check(run.Template, func(st actionStep) bool { return skipped(st, run) }); err != nil {
		return "", err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := "run-" + hex.EncodeToString(b[:])
	t := &task{notify: make(chan struct{}), done: make(chan struct{})}
	r.mu.Lock()
	now := r.p.Now()
	for k, old := range r.tasks {
		old.mu.Lock()
		if !old.ended.IsZero() && now.Sub(old.ended) > finishedTaskTTL {
			delete(r.tasks, k)
		}
		old.mu.Unlock()
	}
	r.tasks[id] = t
	r.mu.Unlock()

	runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.p.Timeout)
	stopCancel := context.AfterFunc(r.stop, cancel)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		defer stopCancel()
		res := r.execute(runCtx, id, t, run)
		t.mu.Lock()
		t.result = res
		t.ended = r.p.Now()
		t.mu.Unlock()
		close(t.done)
	}()
	return id, nil
}

// skipped reports whether a step's if condition is false given only the
// parameters (conditions on earlier steps' outputs count as not skipped).
func skipped(st actionStep, run templateRun) bool {
	switch c := st.If.(type) {
	case nil:
		return false
	case bool:
		return !c
	case string:
		v, err := renderString(c, exprScope{"parameters": run.Values})
		return err == nil && !truthy(v)
	}
	return false
}

// follow reports the run's events and returns its result. It can be called
// while the run is in progress or up to an hour after it ended.
func (r *Runner) follow(ctx context.Context, taskID string, progress func(event)) (result, error) {
	r.mu.Lock()
	t := r.tasks[taskID]
	r.mu.Unlock()
	if t == nil {
		return result{}, fmt.Errorf("runner: no run %s", taskID)
	}
	seen := 0
	for {
		t.mu.Lock()
		evs := t.events[seen:]
		seen = len(t.events)
		notify := t.notify
		t.mu.Unlock()
		for _, e := range evs {
			progress(e)
		}
		select {
		case <-notify:
			continue
		case <-t.done:
			t.mu.Lock()
			rest := t.events[seen:]
			res := t.result
			t.mu.Unlock()
			for _, e := range rest {
				progress(e)
			}
			return res, nil
		case <-ctx.Done():
			return result{}, ctx.Err()
		}
	}
}

// runState is what the steps of one run share.
type runState struct {
	run       templateRun
	workspace string
	scope     exprScope
	steps     map[string]any
	// published is set by publish:git for catalog:register.
	published *published
}

type published struct {
	dir, remote, branch, commit, name string
}

func (r *Runner) execute(ctx context.Context, id string, t *task, run templateRun) result {
	ws, err := os.MkdirTemp(r.p.WorkDir, "portalbot-run-")
	if err != nil {
		return result{Status: "failed", Error: "create workspace: " + err.Error()}
	}
	defer func() {
		if err := os.RemoveAll(ws); err != nil {
			r.logger.WarnContext(ctx, "remove workspace", "task_id", id, "err", err)
		}
	}()
	secrets := map[string]any{}
	for k, v := range run.Secrets {
		secrets[k] = v
	}
	st := &runState{run: run, workspace: ws, steps: map[string]any{}}
	st.scope = exprScope{
		"parameters": run.Values,
		"secrets":    secrets,
		"steps":      st.steps,
		"user":       map[string]any{"ref": run.User.String(), "email": run.User.Email},
	}
	for _, step := range run.Template.Steps {
		if step.If != nil {
			c, err := renderValue(step.If, st.scope)
			if err == nil && !truthy(c) {
				t.emit(event{Type: "log", StepID: step.ID, Status: "skipped", Message: step.Name + ": skipped"})
				continue
			}
		}
		t.emit(event{Type: "log", StepID: step.ID, Status: "processing", Message: step.Name})
		out, err := r.step(ctx, st, step, t)
		if err != nil {
			msg := fmt.Sprintf("step %s (%s): %v", step.ID, step.Action, err)
			t.emit(event{Type: "log", StepID: step.ID, Status: "failed", Message: msg})
			r.logger.InfoContext(ctx, "template run failed", "task_id", id, "template", run.Template.Ref.String(), "step", step.ID, "err", err)
			return result{Status: "failed", Error: msg}
		}
		st.steps[step.ID] = map[string]any{"output": out}
		t.emit(event{Type: "log", StepID: step.ID, Status: "completed", Message: step.Name})
	}
	res := result{Status: "completed"}
	res.Links, res.Text = renderOutput(run.Template.Output, st.scope)
	t.emit(event{Type: "completion", Message: "Run completed with status: completed"})
	return res
}

func (r *Runner) step(ctx context.Context, st *runState, step actionStep, t *task) (map[string]any, error) {
	rendered, err := renderValue(step.Input, st.scope)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	in, _ := rendered.(map[string]any)
	if in == nil {
		in = map[string]any{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch step.Action {
	case "fetch:template":
		return r.fetchTemplate(ctx, st, in)
	case "publish:git":
		return r.publishGit(ctx, st, in)
	case "catalog:register":
		return r.register(ctx, st, in)
	case "debug:log":
		if m := toString(in["message"]); m != "" {
			t.emit(event{Type: "log", StepID: step.ID, Message: abbrevN(m, 500)})
		}
		return map[string]any{}, nil
	}
	return nil, fmt.Errorf("unsupported action %s", step.Action)
}

// renderOutput renders output.links and output.text, skipping entries whose
// if condition is false or that do not render.
func renderOutput(out map[string]any, scope exprScope) ([]outputLink, []string) {
	var ls []outputLink
	for _, l := range asList(out["links"]) {
		m, ok := l.(map[string]any)
		if !ok || !outputIf(m, scope) {
			continue
		}
		var o outputLink
		for k, dst := range map[string]*string{"title": &o.Title, "url": &o.URL, "entityRef": &o.EntityRef} {
			s, _ := m[k].(string)
			if v, err := renderText(s, scope); err == nil {
				*dst = v
			}
		}
		if o.URL != "" || o.EntityRef != "" {
			ls = append(ls, o)
		}
	}
	var text []string
	for _, e := range asList(out["text"]) {
		m, ok := e.(map[string]any)
		if !ok || !outputIf(m, scope) {
			continue
		}
		title, _ := renderText(toString(m["title"]), scope)
		content, _ := renderText(toString(m["content"]), scope)
		text = append(text, strings.TrimSpace(title+"\n"+content))
	}
	return ls, text
}

func outputIf(m map[string]any, scope exprScope) bool {
	c, ok := m["if"]
	if !ok {
		return true
	}
	v, err := renderValue(c, scope)
	return err == nil && truthy(v)
}

func abbrevN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
