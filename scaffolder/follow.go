package scaffolder

import (
	"context"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// Following a launched run in the background and posting its progress.

// follow reports the run's progress in the background, bounded by the
// follow timeout and Close, and records the result. Finished steps update
// one message through progress when the transport can edit one (Slack
// allows a response_url only 5 posts, PLATFORM.md), else each is posted
// through followup; the result is always a followup of its own.
func (s *Service) follow(ctx context.Context, f follower, followup, progress func(context.Context, commands.Reply) error, t *template, key, taskID string) {
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
	var steps []string // finished steps so far; only Follow's goroutine touches it
	report := func(e event) {
		line := fmt.Sprintf("%s %s", stepName(t, e.StepID), e.Status)
		if progress != nil {
			steps = append(steps, line)
			err := progress(fctx, commands.Reply{Title: t.Title + " (task " + taskID + ")", Text: strings.Join(steps, "\n")})
			if err == nil {
				return
			}
			s.logger.WarnContext(fctx, "update template progress", "task_id", taskID, "err", err)
		}
		post(commands.Reply{Text: fmt.Sprintf("%s: %s", t.Title, line)})
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer stopCancel()
		res, err := f.follow(fctx, taskID, func(e event) {
			if e.Type != "log" || e.StepID == "" {
				return
			}
			switch e.Status {
			case "completed", "failed", "skipped":
				report(e)
			}
		})
		// The run may have registered entities (catalog:register writes
		// the store): questions about them, asked once the result is
		// posted, are answered from the catalog as it is now.
		s.view.Expire()
		status, detail := res.Status, res.Error
		if err != nil {
			status, detail = statusFailed, "follow: "+err.Error()
			s.logger.WarnContext(fctx, "follow template run", "task_id", taskID, "err", err)
			post(commands.Reply{Text: fmt.Sprintf("Lost track of %s (task %s); it may still be running. The error is in the bot's log.", t.Title, taskID)})
		} else {
			r := commands.Reply{Title: t.Title + ": " + res.Status, InChannel: true, Links: links(s.portal, res.Links)}
			switch res.Status {
			case statusCompleted:
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

func stepName(t *template, id string) string {
	for _, st := range t.Steps {
		if st.ID == id {
			return st.Name
		}
	}
	return id
}
