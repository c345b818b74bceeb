package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
)

// The form flow: opening a template, one form per parameter step,
// validating each submitted step.

// Open implements commands.TemplateService.
func (s *Service) Open(ctx context.Context, req *commands.Request, name string) (commands.Reply, error) {
	t, err := s.template(ctx, name)
	if err != nil {
		return commands.Reply{}, err
	}
	if ok, err := s.perms(ctx, req).allowed(ctx, t); err != nil {
		return commands.Reply{}, err
	} else if !ok {
		return commands.Reply{}, commands.Userf("You are not allowed to launch %s.", t.Title)
	}
	if pf, ok := s.launcher.(preflighter); ok {
		var se *setupError
		if err := pf.preflight(t); errors.As(err, &se) {
			return commands.Reply{}, commands.Userf("%s", se.Msg)
		} else if err != nil {
			return commands.Reply{}, err
		}
	}
	st := formState{Template: t.Ref.String(), Values: map[string]any{}}
	step := -1
	if len(t.Params) > 0 {
		step = t.nextStep(-1, st.Values)
	}
	f, err := s.form(ctx, t, step, st)
	if err != nil {
		return commands.Reply{}, err
	}
	return commands.Reply{Form: f}, nil
}

// form builds the Form for step (-1 for a template without parameters: a
// confirmation form).
func (s *Service) form(ctx context.Context, t *template, step int, st formState) (*commands.Form, error) {
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
	if t.nextStep(step, st.Values) < 0 {
		f.SubmitLabel = "Review"
	}
	ps := t.Params[step]
	f.Intro = strings.TrimSpace(ps.Title + "\n" + ps.Description)
	var snap view.Snapshot
	read := false
	for _, fd := range stepFields(ps.Schema) {
		var opts []commands.Option
		if fd.isEntityPicker() {
			if !read {
				if snap, err = s.view.Snapshot(ctx); err != nil {
					return nil, err
				}
				read = true
			}
			opts = entityOptions(snap, &fd, "", 0)
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
	t, err := fromEntity(e)
	if err != nil {
		return commands.Reply{}, err
	}
	if ok, err := s.perms(ctx, req).allowed(ctx, t); err != nil {
		return commands.Reply{}, err
	} else if !ok {
		return commands.Reply{}, commands.Userf("You are not allowed to launch %s.", t.Title)
	}
	if st.Review {
		if edit := sub.Values[reviewEdit]; len(edit) > 0 && edit[0] == "true" {
			st.Review = false
			f, err := s.form(ctx, t, t.nextStep(-1, st.Values), st)
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
		fields := stepFields(t.Params[st.Step].Schema)
		errs := map[string]string{}
		for i := range fields {
			f := &fields[i]
			v, present, msg := f.Parse(sub.Values)
			switch {
			case msg != "":
				errs[f.errorInput()] = msg
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
		if next := t.nextStep(st.Step, st.Values); next >= 0 {
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

// checkStep validates the values against step i's schema and the built-in
// field checks; the messages are keyed by input name.
func (s *Service) checkStep(ctx context.Context, t *template, i int, fields []field, values map[string]any) (map[string]string, error) {
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
func inputErrors(byPath map[string]string, fields []field) map[string]string {
	out := map[string]string{}
	firstVisible := ""
	for i := range fields {
		if !fields[i].Hidden {
			firstVisible = fields[i].errorInput()
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
					target, best = f.errorInput(), len(f.Name)
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
func allFields(t *template, values map[string]any) []field {
	var out []field
	for i := range t.Params {
		if t.active(i, values) {
			out = append(out, stepFields(t.Params[i].Schema)...)
		}
	}
	return out
}
