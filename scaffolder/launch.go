package scaffolder

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// Launching a reviewed run: revalidate, deduplicate, audit, hand to the
// Launcher, and turn its errors into something a chat user can act on.

// revalidate checks every active step again before launching: the state a
// form carried could have been tampered with on its way through the client.
func (s *Service) revalidate(ctx context.Context, t *template, st formState) error {
	values := cloneMap(st.Values)
	for i := range t.Params {
		if !t.active(i, values) {
			continue
		}
		fields := stepFields(t.Params[i].Schema)
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

func (s *Service) launch(ctx context.Context, req *commands.Request, t *template, st formState) (commands.Reply, error) {
	if err := s.revalidate(ctx, t, st); err != nil {
		return commands.Reply{}, err
	}
	u := userOf(ctx, req)
	run := templateRun{Template: t, Values: st.Values, Secrets: map[string]string{}, User: u}
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
	taskID, err := s.launcher.launch(ctx, run)
	if err != nil {
		s.recent.release(ck)
		status := statusFailed
		if ferr := s.audit.FinishLaunch(ctx, run.Key, "", status, err.Error()); ferr != nil {
			s.logger.ErrorContext(ctx, "record launch result", "template", t.Ref.String(), "err", ferr)
		}
		var inv *invalidValuesError
		if errors.As(err, &inv) {
			if errs := stepErrors(t, st.Step, inv.Fields); errs != nil {
				return commands.Reply{FieldErrors: errs}, nil
			}
			return commands.Reply{}, commands.Userf("The scaffolder refused the values: %s", strings.TrimPrefix(inv.Error(), "invalid values: "))
		}
		var se *setupError
		if errors.As(err, &se) {
			return commands.Reply{}, commands.Userf("%s", se.Msg)
		}
		// The raw error can name hosts, paths and status bodies: it goes
		// to the log, and the user gets the key to find it there.
		s.logger.WarnContext(ctx, "template launch failed", "template", t.Ref.String(), "user", u.String(), "launch_key", run.Key, "err", err)
		return commands.Reply{}, commands.Userf("Could not launch %s: the scaffolder did not accept the run. The error is in the bot's log; try again later or ask an admin.", t.Title)
	}
	if err := s.audit.FinishLaunch(ctx, run.Key, taskID, statusStarted, ""); err != nil {
		s.logger.ErrorContext(ctx, "record launch task", "template", t.Ref.String(), "task_id", taskID, "err", err)
	}
	s.logger.InfoContext(ctx, "template launched", "template", t.Ref.String(), "task_id", taskID, "user", u.String(), "platform", u.Platform)
	rep := commands.Reply{Text: fmt.Sprintf("Launched %s (task %s).", t.Title, taskID)}
	if s.taskURL != nil {
		if tu := s.taskURL(taskID); tu != "" {
			rep.Links = []commands.Link{{Text: "Task", URL: tu}}
		}
	}
	if f, ok := s.launcher.(follower); ok {
		rep.Text += " I'll post its progress here."
		s.follow(ctx, f, req.Followup, req.Progress, t, run.Key, taskID)
	}
	return rep, nil
}

// stepErrors maps a launcher's field errors to the inputs of the form
// step just submitted, or returns nil when any of them belongs elsewhere
// (an earlier step, the run as a whole): the form can only show its own.
func stepErrors(t *template, step int, byPath map[string]string) map[string]string {
	if step < 0 || step >= len(t.Params) || len(byPath) == 0 {
		return nil
	}
	fields := stepFields(t.Params[step].Schema)
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
