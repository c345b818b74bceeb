package slack

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// interaction handles one interaction payload received at start and
// returns the acknowledgement body, nil for an empty one. Block actions
// are acknowledged at once and worked on in the background; a view
// submission's answer is its acknowledgement; a block suggestion is
// answered with options.
func (a *Adapter) interaction(ctx context.Context, cb *slackgo.InteractionCallback, start time.Time) any {
	switch cb.Type {
	case slackgo.InteractionTypeBlockSuggestion:
		return a.suggest(ctx, cb)
	case slackgo.InteractionTypeViewSubmission:
		return a.viewSubmission(ctx, cb, start)
	case slackgo.InteractionTypeBlockActions:
		a.goBackground(ctx, func(ctx context.Context) { a.blockActions(ctx, cb, start) })
	}
	return nil
}

// suggest answers an external select's type-ahead: the action id is the
// input's Suggest source.
func (a *Adapter) suggest(ctx context.Context, cb *slackgo.InteractionCallback) *slackgo.OptionsResponse {
	opts := a.engine.Suggest(ctx, cb.ActionID, cb.Value, maxSelectOptions)
	return &slackgo.OptionsResponse{Options: options(opts)}
}

func userRequest(cb *slackgo.InteractionCallback) *commands.Request {
	name := cb.User.Name
	if name == "" {
		name = cb.User.Username
	}
	return &commands.Request{Platform: commands.PlatformSlack, UserID: cb.User.ID, UserName: name}
}

// blockActions runs the clicked buttons and chosen options.
func (a *Adapter) blockActions(ctx context.Context, cb *slackgo.InteractionCallback, start time.Time) {
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	if cb.Container.Type == "view" {
		if cb.View.Type != slackgo.VTHomeTab {
			return // our modals hold no action elements
		}
		// A button of the Home tab: answers go to the app's DM with the
		// user, which chat.postMessage reaches by the user's id.
		channel = cb.User.ID
	}
	thread := cb.Container.ThreadTs
	if thread == "" {
		thread = cb.Message.ThreadTimestamp
	}
	for _, act := range cb.ActionCallback.BlockActions {
		id := actionID(act.ActionID)
		req := userRequest(cb)
		req.ChannelID, req.ThreadID = channel, thread
		conv := &conversation{channel: channel, thread: thread, user: cb.User.ID, resp: a.newResponder(cb.ResponseURL)}
		switch id {
		case actionLink:
			continue
		case actionShare, actionOpen:
			if !replayRequest(act.Value, req) {
				continue
			}
		default:
			vals := actionValues(*act)
			req.Action = &commands.Action{ID: id, Values: vals}
			if len(vals) > 0 {
				req.Action.Value = vals[0]
			}
		}
		conv.replay = replayValue(req)
		req.Followup = a.followup(conv)
		a.fillEmail(ctx, req)
		rep := a.engine.Serve(ctx, req)
		if id == actionShare {
			conv.sharedBy = cb.User.ID
			rep.InChannel = true
		}
		if rep.Form != nil && a.openForm(ctx, cb.TriggerID, start, *rep.Form,
			viewMeta{Channel: channel, Thread: thread, ResponseURL: conv.resp.urlOrEmpty()}) {
			continue
		}
		a.deliverLogged(ctx, conv, rep)
	}
}

// viewSubmission answers a submitted modal within answerBudget: field
// errors keep the modal open, a next step replaces it, and anything else
// closes it and is posted to the conversation it came from.
func (a *Adapter) viewSubmission(ctx context.Context, cb *slackgo.InteractionCallback, start time.Time) *slackgo.ViewSubmissionResponse {
	meta := decodeMeta(cb.View.PrivateMetadata)
	conv := &conversation{channel: meta.Channel, thread: meta.Thread, user: cb.User.ID, resp: a.newResponder(meta.ResponseURL)}
	req := userRequest(cb)
	req.ChannelID, req.ThreadID = meta.Channel, meta.Thread
	req.Action = &commands.Action{ID: cb.View.CallbackID, Form: submission(cb.View)}
	req.Followup = a.followup(conv)
	req.Progress = a.progress(conv)
	rep, ok := a.serveWithin(ctx, req, a.budget-a.now().Sub(start), func(ctx context.Context, r commands.Reply) {
		a.deliverLogged(ctx, conv, r)
	})
	if !ok {
		return slackgo.NewClearViewSubmissionResponse()
	}
	if len(rep.FieldErrors) > 0 {
		if errs := viewErrors(cb.View, rep.FieldErrors); errs != nil {
			return slackgo.NewErrorsViewSubmissionResponse(errs)
		}
	}
	if rep.Form != nil {
		next := meta
		next.State = rep.Form.State
		view, err := modalView(*rep.Form, next)
		if err == nil {
			return slackgo.NewUpdateViewSubmissionResponse(&view)
		}
		a.logger.ErrorContext(ctx, "form step cannot be rendered", "action", rep.Form.Action, "err", err)
		rep = commands.Reply{Text: "The next step of this form cannot be shown in Slack; the error was logged."}
	}
	a.goBackground(ctx, func(ctx context.Context) { a.deliverLogged(ctx, conv, rep) })
	return slackgo.NewClearViewSubmissionResponse()
}

// viewErrors keeps the errors that name an input block of v (Slack
// rejects the whole answer otherwise); errors for other names go to the
// first input. It returns nil when v has no input block.
func viewErrors(v slackgo.View, errs map[string]string) map[string]string {
	var inputs []string
	known := map[string]bool{}
	for _, b := range v.Blocks.BlockSet {
		if ib, ok := b.(*slackgo.InputBlock); ok {
			inputs = append(inputs, ib.BlockID)
			known[ib.BlockID] = true
		}
	}
	if len(inputs) == 0 {
		return nil
	}
	out := map[string]string{}
	var other []string
	for name, msg := range errs {
		if known[name] {
			out[name] = truncate(msg, maxLabel)
		} else {
			other = append(other, msg)
		}
	}
	if len(other) > 0 {
		sort.Strings(other)
		if prev, ok := out[inputs[0]]; ok {
			other = append([]string{prev}, other...)
		}
		out[inputs[0]] = truncate(strings.Join(other, "; "), maxLabel)
	}
	return out
}
