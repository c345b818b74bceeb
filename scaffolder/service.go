package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/commands"
)

// Params are the Service's dependencies.
type Params struct {
	// Store holds the Template entities and the entities pickers offer. Required.
	Store catalog.Store
	// Launcher starts runs: a *Backstage or a *Runner. Required.
	Launcher Launcher
	// Audit records launches; nil means a MemoryAudit.
	Audit Audit
	// Rules decide who may launch what; none means anyone may.
	Rules []Rule
	// PortalURL links entities and Backstage tasks; no trailing slash.
	PortalURL string
	// TaskURL, when set, links a launched task: PortalURL/create/tasks/{id}
	// for a Backstage launcher; empty means no link.
	TaskURL func(taskID string) string
	// FollowTimeout bounds following one run in the background; zero means
	// 15 minutes, the life of a Discord interaction token (PLATFORM.md),
	// after which follow-ups could not be posted anyway.
	FollowTimeout time.Duration
	Logger        *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service implements commands.TemplateService. It is safe for concurrent
// use; Close waits for background follow-ups to end.
type Service struct {
	store    catalog.Store
	launcher Launcher
	audit    Audit
	rules    []Rule
	portal   string
	taskURL  func(string) string
	timeout  time.Duration
	logger   *slog.Logger
	now      func() time.Time

	states  stateStore
	recent  recent
	schemas schemaCache

	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ commands.TemplateService = (*Service)(nil)

// New returns a Service. It panics when Store or Launcher is nil (a wiring
// mistake).
func New(p Params) *Service {
	if p.Store == nil || p.Launcher == nil {
		panic("scaffolder: New needs a Store and a Launcher")
	}
	if p.Audit == nil {
		p.Audit = &MemoryAudit{}
	}
	if p.FollowTimeout == 0 {
		p.FollowTimeout = 15 * time.Minute
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Service{
		store: p.Store, launcher: p.Launcher, audit: p.Audit, rules: p.Rules,
		portal: strings.TrimRight(p.PortalURL, "/"), taskURL: p.TaskURL, timeout: p.FollowTimeout,
		logger: p.Logger.With("component", "scaffolder"), now: p.Now,
		stop: stop, cancel: cancel,
	}
}

// Close stops following runs and waits for the follow-up goroutines.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

func userOf(req *commands.Request) User {
	return User{Platform: req.Platform, ID: req.UserID, Name: req.UserName, Email: req.UserEmail}
}

func (s *Service) perms(req *commands.Request) *permissions {
	return &permissions{rules: s.rules, store: s.store, user: userOf(req)}
}

// maxListed is the most templates one reply lists; Slack messages hold 50
// blocks (PLATFORM.md), and each template takes a few.
const maxListed = 15

// List implements commands.TemplateService.
func (s *Service) List(ctx context.Context, req *commands.Request, query string) (commands.Reply, error) {
	ents, err := s.store.Entities(ctx, catalog.Query{Kind: catalog.KindTemplate})
	if err != nil {
		return commands.Reply{}, err
	}
	perms := s.perms(req)
	query = strings.ToLower(strings.TrimSpace(query))
	var rep commands.Reply
	n := 0
	for _, e := range ents {
		t, err := FromEntity(e)
		if err != nil {
			continue
		}
		if query != "" && !matchesQuery(e, query) {
			continue
		}
		ok, err := perms.allowed(ctx, t)
		if err != nil {
			return commands.Reply{}, err
		}
		if !ok {
			continue
		}
		n++
		if len(rep.Sections) >= maxListed {
			continue
		}
		sec := commands.Section{Title: t.Title, Text: abbrevN(strings.TrimSpace(e.Metadata.Description), 280)}
		// The title is what people read, the name what they type.
		sec.Fields = append(sec.Fields, commands.Field{Name: "To launch, type", Value: "create " + t.Ref.Display()})
		if o, ok := e.Owner(); ok {
			sec.Fields = append(sec.Fields, commands.Field{Name: "Owner", Value: o.Display(), URL: entityURL(s.portal, o.String())})
		}
		if len(e.Metadata.Tags) > 0 {
			sec.Fields = append(sec.Fields, commands.Field{Name: "Tags", Value: strings.Join(e.Metadata.Tags, ", ")})
		}
		sec.Buttons = []commands.Button{{Text: "Launch", Action: commands.ActionTemplateLaunch, Value: t.Ref.String(), Style: "primary"}}
		rep.Sections = append(rep.Sections, sec)
	}
	switch {
	case n == 0 && query != "":
		return commands.Reply{}, commands.Userf("No template you can launch matches %q.", query)
	case n == 0:
		return commands.Reply{}, commands.Userf("There are no templates you can launch.")
	}
	rep.Title = "Software templates"
	if n > len(rep.Sections) {
		rep.Text = fmt.Sprintf("Showing %d of %d; narrow it down with templates <query>.", len(rep.Sections), n)
		rep.MoreURL = s.portal + "/create"
	}
	return rep, nil
}

func matchesQuery(e *catalog.Entity, q string) bool {
	if strings.Contains(strings.ToLower(e.Metadata.Name), q) || strings.Contains(strings.ToLower(e.Metadata.Title), q) {
		return true
	}
	for _, t := range e.Metadata.Tags {
		if strings.EqualFold(t, q) {
			return true
		}
	}
	return false
}

// template finds a template by ref, name or title.
func (s *Service) template(ctx context.Context, name string) (*Template, error) {
	name = strings.TrimSpace(name)
	if ref, err := catalog.ParseRef(name, catalog.KindTemplate, ""); err == nil && strings.EqualFold(ref.Kind, catalog.KindTemplate) {
		e, err := s.store.Entity(ctx, ref)
		if err == nil {
			return FromEntity(e)
		}
		if !errors.Is(err, catalog.ErrNotFound) {
			return nil, err
		}
	}
	ents, err := s.store.Entities(ctx, catalog.Query{Kind: catalog.KindTemplate})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if strings.EqualFold(e.Metadata.Name, name) || strings.EqualFold(e.Metadata.Title, name) {
			return FromEntity(e)
		}
		names = append(names, e.Metadata.Name)
	}
	if near := commands.Nearest(name, names, 3); len(near) > 0 {
		return nil, commands.Userf("No template %q; did you mean %s?", abbrevN(name, 60), strings.Join(near, ", "))
	}
	return nil, commands.Userf("No template %q. Try templates to list them.", abbrevN(name, 60))
}

// Open implements commands.TemplateService.
func (s *Service) Open(ctx context.Context, req *commands.Request, name string) (commands.Reply, error) {
	t, err := s.template(ctx, name)
	if err != nil {
		return commands.Reply{}, err
	}
	if ok, err := s.perms(req).allowed(ctx, t); err != nil {
		return commands.Reply{}, err
	} else if !ok {
		return commands.Reply{}, commands.Userf("You are not allowed to launch %s.", t.Title)
	}
	if pf, ok := s.launcher.(Preflighter); ok {
		var se *SetupError
		if err := pf.Preflight(t); errors.As(err, &se) {
			return commands.Reply{}, commands.Userf("%s", se.Msg)
		} else if err != nil {
			return commands.Reply{}, err
		}
	}
	st := formState{Template: t.Ref.String(), Values: map[string]any{}}
	step := -1
	if len(t.Params) > 0 {
		step = t.NextStep(-1, st.Values)
	}
	f, err := s.form(ctx, t, step, st)
	if err != nil {
		return commands.Reply{}, err
	}
	return commands.Reply{Form: f}, nil
}

// form builds the Form for step (-1 for a template without parameters: a
// confirmation form).
func (s *Service) form(ctx context.Context, t *Template, step int, st formState) (*commands.Form, error) {
	st.Step = step
	state, err := s.states.encode(st, s.now())
	if err != nil {
		return nil, err
	}
	f := &commands.Form{Action: commands.ActionTemplateSubmit, Title: t.Title, SubmitLabel: "Next", State: state, Step: step + 1, Steps: len(t.Params)}
	if step < 0 {
		f.Step, f.Steps = 1, 1
		f.SubmitLabel = "Launch"
		f.Intro = strings.TrimSpace(t.Entity.Metadata.Description + "\n\nThis template asks for nothing; submit to launch it.")
		return f, nil
	}
	if t.NextStep(step, st.Values) < 0 {
		f.SubmitLabel = "Review"
	}
	ps := t.Params[step]
	f.Intro = strings.TrimSpace(ps.Title + "\n" + ps.Description)
	var sums []catalog.Summary
	for _, fd := range StepFields(ps.Schema) {
		var opts []commands.Option
		if fd.IsEntityPicker() {
			if sums == nil {
				if sums, err = s.store.Summaries(ctx); err != nil {
					return nil, err
				}
			}
			opts = entityOptions(sums, &fd, "", 0)
		}
		def, _ := lookup(st.Values, fd.Path)
		f.Inputs = append(f.Inputs, fd.Inputs(def, opts, sourceFor(fd.Kinds))...)
	}
	return f, nil
}

// Submit implements commands.TemplateService.
func (s *Service) Submit(ctx context.Context, req *commands.Request) (commands.Reply, error) {
	sub := req.Action.Form
	st, err := s.states.decode(sub.State, s.now())
	if err != nil {
		return commands.Reply{}, commands.Userf("This form has expired; run create again.")
	}
	ref, err := catalog.ParseRef(st.Template, catalog.KindTemplate, "")
	if err != nil {
		return commands.Reply{}, commands.Userf("This form has expired; run create again.")
	}
	e, err := s.store.Entity(ctx, ref)
	if errors.Is(err, catalog.ErrNotFound) {
		return commands.Reply{}, commands.Userf("The template %s no longer exists.", ref.Display())
	} else if err != nil {
		return commands.Reply{}, err
	}
	t, err := FromEntity(e)
	if err != nil {
		return commands.Reply{}, err
	}
	if ok, err := s.perms(req).allowed(ctx, t); err != nil {
		return commands.Reply{}, err
	} else if !ok {
		return commands.Reply{}, commands.Userf("You are not allowed to launch %s.", t.Title)
	}
	if st.Review {
		if edit := sub.Values[reviewEdit]; len(edit) > 0 && edit[0] == "true" {
			st.Review = false
			f, err := s.form(ctx, t, t.NextStep(-1, st.Values), st)
			if err != nil {
				return commands.Reply{}, err
			}
			return commands.Reply{Form: f}, nil
		}
		// The review form has none of the steps' inputs, so a launcher's
		// field errors are reported as a message (stepErrors with -1).
		st.Step = -1
		return s.launch(ctx, req, t, st)
	}
	if st.Step >= len(t.Params) {
		return commands.Reply{}, commands.Userf("The template %s changed while you filled it in; run create again.", t.Title)
	}
	if st.Values == nil {
		st.Values = map[string]any{}
	}
	if st.Secrets == nil {
		st.Secrets = map[string]string{}
	}
	if st.Step >= 0 {
		fields := StepFields(t.Params[st.Step].Schema)
		errs := map[string]string{}
		for i := range fields {
			f := &fields[i]
			v, present, msg := f.Parse(sub.Values)
			switch {
			case msg != "":
				errs[f.ErrorInput()] = msg
			case present:
				set(st.Values, f.Path, v)
			default:
				deletePath(st.Values, f.Path)
			}
			if f.UIField == fieldSecret {
				delete(st.Secrets, f.Name)
			}
		}
		if len(errs) == 0 {
			errs, err = s.checkStep(ctx, t, st.Step, fields, st.Values)
			if err != nil {
				return commands.Reply{}, err
			}
		}
		if len(errs) > 0 {
			return commands.Reply{FieldErrors: errs}, nil
		}
		// Secret field values leave the parameters: Backstage passes them
		// as secrets, never into the task's stored spec.
		for i := range fields {
			f := &fields[i]
			if f.UIField == fieldSecret {
				if v, ok := lookup(st.Values, f.Path); ok {
					st.Secrets[f.Name] = toString(v)
					deletePath(st.Values, f.Path)
				}
			}
		}
		if next := t.NextStep(st.Step, st.Values); next >= 0 {
			f, err := s.form(ctx, t, next, st)
			if err != nil {
				return commands.Reply{}, err
			}
			return commands.Reply{Form: f}, nil
		}
		return s.review(ctx, t, st)
	}
	// A template without parameters had its confirmation form already.
	return s.launch(ctx, req, t, st)
}

// secretShown stands for a secret value on the review form.
const secretShown = "(secret, not shown)"

// reviewEdit is the review form's one input: ticked, the submission
// reopens the first step with the values given so far.
const reviewEdit = "edit"

// review returns the form shown after the last step: the values as the
// template will receive them (secrets named, not shown), launched by
// submitting it.
func (s *Service) review(ctx context.Context, t *Template, st formState) (commands.Reply, error) {
	if err := s.revalidate(ctx, t, st); err != nil {
		return commands.Reply{}, err
	}
	st.Review = true
	state, err := s.states.encode(st, s.now())
	if err != nil {
		return commands.Reply{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s will receive these values:", t.Title)
	shown := cloneMap(st.Values)
	for _, f := range allFields(t, st.Values) {
		if _, ok := lookup(shown, f.Path); ok && f.Secret {
			set(shown, f.Path, secretShown)
		}
	}
	for _, k := range sortedKeys(shown) {
		fmt.Fprintf(&b, "\n• %s: %s", k, abbrevN(reviewValue(shown[k]), 300))
	}
	for _, k := range sortedKeysS(st.Secrets) {
		fmt.Fprintf(&b, "\n• %s: %s", k, secretShown)
	}
	if len(st.Values)+len(st.Secrets) == 0 {
		b.WriteString(" none.")
	}
	b.WriteString("\nSubmit to launch it, or tick the box to change them first.")
	f := &commands.Form{
		Action: commands.ActionTemplateSubmit, Title: "Review: " + t.Title, SubmitLabel: "Launch", State: state,
		Intro: b.String(),
		Inputs: []commands.Input{{
			Name: reviewEdit, Label: "Change something first", Kind: commands.InputCheckbox, Default: []string{"false"},
			Hint: "Tick to go back to the first step with these values.",
		}},
	}
	return commands.Reply{Form: f}, nil
}

// reviewValue prints a value as the template receives it: text as is,
// anything else as JSON.
func reviewValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// checkStep validates the values against step i's schema and the built-in
// field checks; the messages are keyed by input name.
func (s *Service) checkStep(ctx context.Context, t *Template, i int, fields []Field, values map[string]any) (map[string]string, error) {
	sch, err := s.schemas.get(fmt.Sprintf("%s@%s#%d", t.Ref, t.Entity.Metadata.Etag, i), stripStep(t.Params[i].Schema))
	if err != nil {
		return nil, commands.Userf("The template %s has a parameter schema that cannot be checked: %v", t.Title, err)
	}
	byPath, err := schemaErrors(sch, values)
	if err != nil {
		return nil, err
	}
	if byPath == nil {
		byPath = map[string]string{}
	}
	builtin, err := s.builtinErrors(ctx, fields, values)
	if err != nil {
		return nil, err
	}
	for k, v := range builtin {
		if _, dup := byPath[k]; !dup {
			byPath[k] = v
		}
	}
	if len(byPath) == 0 {
		return nil, nil
	}
	return inputErrors(byPath, fields), nil
}

// stripStep removes Backstage's step keys that are not JSON Schema.
func stripStep(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		if k != "when" {
			c[k] = v
		}
	}
	return c
}

// inputErrors keys messages by the input they belong to: the field whose
// path is the error's, else its nearest enclosing field, else the step's
// first visible input (an error no field claims, from a oneOf say).
func inputErrors(byPath map[string]string, fields []Field) map[string]string {
	out := map[string]string{}
	firstVisible := ""
	for i := range fields {
		if !fields[i].Hidden {
			firstVisible = fields[i].ErrorInput()
			break
		}
	}
	for _, p := range sortedKeysS(byPath) {
		msg := byPath[p]
		target := ""
		best := -1
		for i := range fields {
			f := &fields[i]
			if f.Hidden {
				continue
			}
			if f.Name == p || strings.HasPrefix(p, f.Name+".") {
				if len(f.Name) > best {
					target, best = f.ErrorInput(), len(f.Name)
				}
			}
		}
		if target == "" {
			target = firstVisible
			if p != "" {
				msg = p + ": " + msg
			}
		}
		if target == "" {
			continue
		}
		if old, dup := out[target]; dup {
			out[target] = old + " " + msg
		} else {
			out[target] = msg
		}
	}
	return out
}

func deletePath(m map[string]any, path []string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

// allFields returns the fields of every active step.
func allFields(t *Template, values map[string]any) []Field {
	var out []Field
	for i := range t.Params {
		if t.Active(i, values) {
			out = append(out, StepFields(t.Params[i].Schema)...)
		}
	}
	return out
}

// revalidate checks every active step again before launching: the state a
// form carried could have been tampered with on its way through the client.
func (s *Service) revalidate(ctx context.Context, t *Template, st formState) error {
	values := cloneMap(st.Values)
	for i := range t.Params {
		if !t.Active(i, values) {
			continue
		}
		fields := StepFields(t.Params[i].Schema)
		for _, f := range fields {
			if f.UIField == fieldSecret {
				if v, ok := st.Secrets[f.Name]; ok {
					set(values, f.Path, v)
				}
			}
		}
		errs, err := s.checkStep(ctx, t, i, fields, values)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			var parts []string
			for _, k := range sortedKeysS(errs) {
				parts = append(parts, k+": "+errs[k])
			}
			return commands.Userf("Some values no longer pass the template's checks (%s); run create again.", strings.Join(parts, "; "))
		}
	}
	return nil
}

func (s *Service) launch(ctx context.Context, req *commands.Request, t *Template, st formState) (commands.Reply, error) {
	if err := s.revalidate(ctx, t, st); err != nil {
		return commands.Reply{}, err
	}
	u := userOf(req)
	run := Run{Template: t, Values: st.Values, Secrets: map[string]string{}, User: u}
	for k, v := range st.Secrets {
		run.Secrets[k] = v
	}
	run.Secrets[SecretUser] = u.String()
	if u.Email != "" {
		run.Secrets[SecretUserEmail] = u.Email
	}
	ck := contentKey(u, t.Ref.String(), st.Values, st.Secrets)
	run.Key = ck
	if k := req.Action.Form.Key; k != "" {
		run.Key = "s:" + k
	}
	if !s.recent.claim(ck, s.now()) {
		return commands.Reply{Text: fmt.Sprintf("You already launched %s with these values a moment ago; not launching it twice.", t.Title)}, nil
	}
	valuesJSON, err := maskedValues(st.Values, allFields(t, st.Values))
	if err != nil {
		s.recent.release(ck)
		return commands.Reply{}, err
	}
	first, err := s.audit.RecordLaunch(ctx, run.Key, u.String(), u.Platform, t.Ref.String(), valuesJSON)
	if err != nil {
		s.recent.release(ck)
		return commands.Reply{}, fmt.Errorf("record launch: %w", err)
	}
	if !first {
		return commands.Reply{Text: fmt.Sprintf("This submission of %s was already launched.", t.Title)}, nil
	}
	taskID, err := s.launcher.Launch(ctx, run)
	if err != nil {
		s.recent.release(ck)
		status := StatusFailed
		if ferr := s.audit.FinishLaunch(ctx, run.Key, "", status, err.Error()); ferr != nil {
			s.logger.ErrorContext(ctx, "record launch result", "template", t.Ref.String(), "err", ferr)
		}
		var inv *InvalidValuesError
		if errors.As(err, &inv) {
			if errs := stepErrors(t, st.Step, inv.Fields); errs != nil {
				return commands.Reply{FieldErrors: errs}, nil
			}
			return commands.Reply{}, commands.Userf("The scaffolder refused the values: %s", strings.TrimPrefix(inv.Error(), "invalid values: "))
		}
		var se *SetupError
		if errors.As(err, &se) {
			return commands.Reply{}, commands.Userf("%s", se.Msg)
		}
		// The raw error can name hosts, paths and status bodies: it goes
		// to the log, and the user gets the key to find it there.
		s.logger.WarnContext(ctx, "template launch failed", "template", t.Ref.String(), "user", u.String(), "launch_key", run.Key, "err", err)
		return commands.Reply{}, commands.Userf("Could not launch %s: the scaffolder did not accept the run. The error is in the bot's log; try again later or ask an admin.", t.Title)
	}
	if err := s.audit.FinishLaunch(ctx, run.Key, taskID, StatusStarted, ""); err != nil {
		s.logger.ErrorContext(ctx, "record launch task", "template", t.Ref.String(), "task_id", taskID, "err", err)
	}
	s.logger.InfoContext(ctx, "template launched", "template", t.Ref.String(), "task_id", taskID, "user", u.String(), "platform", u.Platform)
	rep := commands.Reply{Text: fmt.Sprintf("Launched %s (task %s).", t.Title, taskID)}
	if s.taskURL != nil {
		if tu := s.taskURL(taskID); tu != "" {
			rep.Links = []commands.Link{{Text: "Task", URL: tu}}
		}
	}
	if f, ok := s.launcher.(Follower); ok {
		rep.Text += " I'll post its progress here."
		s.follow(ctx, f, req.Followup, t, run.Key, taskID)
	}
	return rep, nil
}

// stepErrors maps a launcher's field errors to the inputs of the form
// step just submitted, or returns nil when any of them belongs elsewhere
// (an earlier step, the run as a whole): the form can only show its own.
func stepErrors(t *Template, step int, byPath map[string]string) map[string]string {
	if step < 0 || step >= len(t.Params) || len(byPath) == 0 {
		return nil
	}
	fields := StepFields(t.Params[step].Schema)
	for p := range byPath {
		found := false
		for i := range fields {
			if !fields[i].Hidden && (fields[i].Name == p || strings.HasPrefix(p, fields[i].Name+".")) {
				found = true
			}
		}
		if !found {
			return nil
		}
	}
	return inputErrors(byPath, fields)
}

// follow reports the run's progress through followup in the background,
// bounded by the follow timeout and Close, and records the result.
func (s *Service) follow(ctx context.Context, f Follower, followup func(context.Context, commands.Reply) error, t *Template, key, taskID string) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	stopCancel := context.AfterFunc(s.stop, cancel)
	post := func(r commands.Reply) {
		if followup == nil {
			return
		}
		if err := followup(fctx, r); err != nil {
			s.logger.WarnContext(fctx, "post template progress", "task_id", taskID, "err", err)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer stopCancel()
		res, err := f.Follow(fctx, taskID, func(e Event) {
			if e.Type != "log" || e.StepID == "" {
				return
			}
			switch e.Status {
			case "completed", "failed", "skipped":
				post(commands.Reply{Text: fmt.Sprintf("%s: %s %s", t.Title, stepName(t, e.StepID), e.Status)})
			}
		})
		status, detail := res.Status, res.Error
		if err != nil {
			status, detail = StatusFailed, "follow: "+err.Error()
			s.logger.WarnContext(fctx, "follow template run", "task_id", taskID, "err", err)
			post(commands.Reply{Text: fmt.Sprintf("Lost track of %s (task %s); it may still be running. The error is in the bot's log.", t.Title, taskID)})
		} else {
			r := commands.Reply{Title: t.Title + ": " + res.Status, InChannel: true, Links: links(s.portal, res.Links)}
			switch res.Status {
			case StatusCompleted:
				r.Text = strings.Join(res.Text, "\n\n")
			default:
				r.Text = abbrevN(res.Error, 1000)
			}
			post(r)
		}
		if err := s.audit.FinishLaunch(fctx, key, taskID, status, abbrevN(detail, 1000)); err != nil {
			s.logger.ErrorContext(fctx, "record launch result", "task_id", taskID, "err", err)
		}
	}()
}

func stepName(t *Template, id string) string {
	for _, st := range t.Steps {
		if st.ID == id {
			return st.Name
		}
	}
	return id
}

// Entity sources for type-ahead selects. Router.HandleSuggest needs fixed
// names, so there is one per kind, one for owners (Group and User, the
// OwnerPicker default) and one for any kind; validation still enforces a
// field's exact filter.
const suggestEntities = "template.entities"

var suggestKinds = []string{
	catalog.KindComponent, catalog.KindAPI, catalog.KindResource, catalog.KindSystem, catalog.KindDomain,
	catalog.KindGroup, catalog.KindUser, catalog.KindLocation, catalog.KindTemplate,
}

func kindsKey(kinds []string) string {
	l := make([]string, len(kinds))
	for i, k := range kinds {
		l[i] = strings.ToLower(k)
	}
	sort.Strings(l)
	return strings.Join(l, "+")
}

// sourceFor names the suggest source for an entity picker of kinds.
func sourceFor(kinds []string) string {
	switch key := kindsKey(kinds); {
	case key == "":
		return suggestEntities
	case key == "group+user":
		return suggestEntities + ":" + key
	case !strings.Contains(key, "+"):
		for _, k := range suggestKinds {
			if strings.EqualFold(k, key) {
				return suggestEntities + ":" + key
			}
		}
	}
	return suggestEntities
}

// SuggestSources implements commands.TemplateService.
func (s *Service) SuggestSources() map[string]commands.SuggestFunc {
	out := map[string]commands.SuggestFunc{
		commands.SuggestTemplates:       s.suggestTemplates,
		suggestEntities:                 s.suggestEntities(nil),
		suggestEntities + ":group+user": s.suggestEntities([]string{catalog.KindGroup, catalog.KindUser}),
	}
	for _, k := range suggestKinds {
		out[suggestEntities+":"+strings.ToLower(k)] = s.suggestEntities([]string{k})
	}
	return out
}

func (s *Service) suggestEntities(kinds []string) commands.SuggestFunc {
	return func(ctx context.Context, prefix string, limit int) ([]commands.Option, error) {
		sums, err := s.store.Summaries(ctx)
		if err != nil {
			return nil, err
		}
		return entityOptions(sums, &Field{Kinds: kinds}, prefix, limit), nil
	}
}

func (s *Service) suggestTemplates(ctx context.Context, prefix string, limit int) ([]commands.Option, error) {
	sums, err := s.store.Summaries(ctx)
	if err != nil {
		return nil, err
	}
	return entityOptions(sums, &Field{Kinds: []string{catalog.KindTemplate}}, prefix, limit), nil
}

// entityOptions lists the entities a picker offers: of an allowed kind and
// matching one of its catalog filters on the fields a Summary carries;
// filters on other fields are left to validation. prefix filters by name
// or title; limit 0 means all.
func entityOptions(sums []catalog.Summary, f *Field, prefix string, limit int) []commands.Option {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	var out []commands.Option
	for i := range sums {
		sm := &sums[i]
		if len(f.Kinds) > 0 && !containsFold(f.Kinds, sm.Ref.Kind) {
			continue
		}
		if len(f.Filters) > 0 {
			ok := false
			for _, flt := range f.Filters {
				if summaryMatches(sm, flt) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if prefix != "" && !strings.Contains(strings.ToLower(sm.Ref.Name), prefix) && !strings.Contains(strings.ToLower(sm.Title), prefix) {
			continue
		}
		label := sm.Ref.Display()
		if len(f.Kinds) != 1 {
			label = strings.ToLower(sm.Ref.Kind) + ":" + label
		}
		if sm.Title != "" && sm.Title != sm.Ref.Name {
			label += " (" + sm.Title + ")"
		}
		out = append(out, commands.Option{Label: abbrevN(label, 75), Value: sm.Ref.String()})
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}

func summaryMatches(sm *catalog.Summary, flt map[string]any) bool {
	for k, v := range flt {
		want := stringList(v)
		if len(want) == 0 {
			continue
		}
		var have string
		switch k {
		case "kind":
			have = sm.Ref.Kind
		case "metadata.name":
			have = sm.Ref.Name
		case "metadata.namespace":
			have = sm.Ref.Namespace
		case "spec.type":
			have = sm.Type
		case "spec.lifecycle":
			have = sm.Lifecycle
		case "spec.owner":
			have = sm.Owner
		default:
			continue
		}
		if !containsFold(want, have) {
			return false
		}
	}
	return true
}
