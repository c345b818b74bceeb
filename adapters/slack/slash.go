package slack

import (
	"context"
	"strings"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// slash answers a slash command received at start. It returns the
// acknowledgement body: the answer when the engine replies within
// answerBudget, nil otherwise (the answer then follows through
// response_url). A form is opened with the trigger_id before anything else.
func (a *Adapter) slash(ctx context.Context, sc slackgo.SlashCommand, start time.Time) *slackgo.WebhookMessage {
	text := strings.TrimSpace(sc.Text)
	if text == "" {
		text = "help"
	}
	conv := &conversation{channel: sc.ChannelID, user: sc.UserID, resp: a.newResponder(sc.ResponseURL)}
	req := &commands.Request{
		Platform:  commands.PlatformSlack,
		UserID:    sc.UserID,
		UserName:  sc.UserName,
		ChannelID: sc.ChannelID,
		Text:      text,
		Followup:  a.followup(conv),
	}
	conv.replay = replayValue(req)
	rep, ok := a.serveWithin(ctx, req, a.budget-a.now().Sub(start), func(ctx context.Context, r commands.Reply) {
		a.deliverLogged(ctx, conv, r)
	})
	if !ok {
		return nil
	}
	if rep.Form != nil {
		if a.openForm(ctx, sc.TriggerID, start, *rep.Form, viewMeta{Channel: sc.ChannelID, ResponseURL: conv.resp.urlOrEmpty()}) {
			return nil
		}
		rep = formPrompt(rep, conv.replay)
	}
	if len(rep.FieldErrors) > 0 {
		rep = fieldErrorsReply(rep)
	}
	return immediate(rep, conv.replay)
}

// immediate renders r as the body of an acknowledgement.
func immediate(r commands.Reply, replay string) *slackgo.WebhookMessage {
	msg := &slackgo.WebhookMessage{Text: fallbackText(r), ResponseType: slackgo.ResponseTypeEphemeral}
	share := replay
	if r.InChannel {
		msg.ResponseType = slackgo.ResponseTypeInChannel
		share = ""
	}
	msg.Blocks = &slackgo.Blocks{BlockSet: messageBlocks(r, share)}
	return msg
}

func (r *responder) urlOrEmpty() string {
	if r == nil {
		return ""
	}
	return r.url
}

// openForm opens f as a modal if the trigger_id of a request received at
// start is still fresh. It reports whether the modal is open.
func (a *Adapter) openForm(ctx context.Context, triggerID string, start time.Time, f commands.Form, meta viewMeta) bool {
	if triggerID == "" || a.now().Sub(start) > a.trigger {
		return false
	}
	view, err := modalView(f, meta)
	if err != nil {
		a.logger.ErrorContext(ctx, "form cannot be rendered", "action", f.Action, "err", err)
		return false
	}
	// The trigger expires 3 s after Slack sent it; don't let a slow
	// views.open outlive it.
	ctx, cancel := context.WithTimeout(ctx, triggerLifetime)
	defer cancel()
	if _, err := a.api.OpenViewContext(ctx, triggerID, view); err != nil {
		a.observe("views.open", err)
		a.logger.WarnContext(ctx, "views.open failed", "action", f.Action, "err", err)
		return false
	}
	return true
}
