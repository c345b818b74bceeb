package slack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// responder posts to one response_url, which allows responseURLUses uses
// within responseURLLifetime (PLATFORM.md).
type responder struct {
	url     string
	expires time.Time

	mu   sync.Mutex
	uses int // guarded by mu
}

func (a *Adapter) newResponder(url string) *responder {
	if url == "" || !a.allowedResponseURL(url) {
		return nil
	}
	return &responder{url: url, expires: a.now().Add(responseURLLifetime - time.Minute)}
}

// take reserves one use; false when none is left.
func (r *responder) take(now time.Time) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uses >= responseURLUses || now.After(r.expires) {
		return false
	}
	r.uses++
	return true
}

// conversation is where the answers to one request go.
type conversation struct {
	channel string
	thread  string
	user    string
	// resp answers through response_url while it has uses left.
	resp *responder
	// public replies go into the channel (or thread) for everyone, as for
	// mentions; otherwise replies are ephemeral unless Reply.InChannel.
	public bool
	// replay re-runs the request (share and open buttons); "" for none.
	replay string
	// sharedBy is the user who shared the answer in the channel, if any.
	sharedBy string
}

// deliver posts r into the conversation. A form cannot be opened without a
// fresh trigger_id, so it becomes a message with an "Open form" button.
func (a *Adapter) deliver(ctx context.Context, c *conversation, r commands.Reply) error {
	if r.Form != nil {
		r = formPrompt(r, c.replay)
	}
	if len(r.FieldErrors) > 0 {
		r = fieldErrorsReply(r)
	}
	if isEmpty(r) {
		return nil
	}
	share := c.replay
	if len(share) < 2 || share[:2] != "t:" {
		share = "" // only typed commands are re-run for sharing: actions may have effects
	}
	// A user id as channel is the app's DM with that user (Home tab
	// actions), where nobody else reads and ephemeral messages can't go.
	inChannel := c.public || r.InChannel || isUserID(c.channel)
	if c.thread == "" && c.resp.take(a.now()) {
		msg := &slackgo.WebhookMessage{Text: fallbackText(r), ResponseType: slackgo.ResponseTypeEphemeral}
		if inChannel {
			msg.ResponseType = slackgo.ResponseTypeInChannel
			share = ""
		}
		msg.Blocks = &slackgo.Blocks{BlockSet: withSharedBy(messageBlocks(r, share), c.sharedBy)}
		err := slackgo.PostWebhookCustomHTTPContext(ctx, c.resp.url, a.http, msg)
		if err == nil {
			return nil
		}
		a.observe("response_url", err)
		a.logger.WarnContext(ctx, "response_url post failed; using the web api", "channel", c.channel, "err", err)
	}
	if c.channel == "" {
		return errors.New("slack deliver: no channel and no response_url left")
	}
	if inChannel {
		_, err := a.poster.Post(ctx, c.channel, c.thread, r)
		return err
	}
	if c.user == "" {
		return errors.New("slack deliver: ephemeral reply with no user")
	}
	opts := []slackgo.MsgOption{
		slackgo.MsgOptionText(fallbackText(r), false),
		slackgo.MsgOptionBlocks(messageBlocks(r, share)...),
	}
	if c.thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(c.thread))
	}
	if _, err := a.api.PostEphemeralContext(ctx, c.channel, c.user, opts...); err != nil {
		a.observe("chat.postEphemeral", err)
		return fmt.Errorf("slack post ephemeral: %w", err)
	}
	return nil
}

// isUserID reports whether id is a Slack user id (U…, or W… in Enterprise
// Grid) rather than a conversation id (C…, G…, D…).
func isUserID(id string) bool {
	return len(id) > 1 && (id[0] == 'U' || id[0] == 'W')
}

// withSharedBy notes who shared an answer in the channel. user is a Slack
// user id from a signed payload; anything else is left out.
func withSharedBy(bs []slackgo.Block, user string) []slackgo.Block {
	if user == "" || strings.Trim(user, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" || len(bs) >= maxMessageBlocks {
		return bs
	}
	return append(bs, slackgo.NewContextBlock("", mrkdwn("Shared by <@"+user+">")))
}

// followup returns a Request.Followup posting into c.
func (a *Adapter) followup(c *conversation) func(ctx context.Context, r commands.Reply) error {
	return func(ctx context.Context, r commands.Reply) error { return a.deliver(ctx, c, r) }
}

// deliverLogged is deliver for background work, where the error stops.
func (a *Adapter) deliverLogged(ctx context.Context, c *conversation, r commands.Reply) {
	if err := a.deliver(ctx, c, r); err != nil {
		a.logger.ErrorContext(ctx, "slack reply failed", "channel", c.channel, "err", err)
	}
}

func isEmpty(r commands.Reply) bool {
	return r.Title == "" && r.Text == "" && len(r.Fields) == 0 && len(r.Links) == 0 &&
		len(r.Sections) == 0 && len(r.Buttons) == 0 && len(r.Selects) == 0
}

// formPrompt turns a form that cannot be opened into a message with a
// button that opens it (a click brings a fresh trigger_id).
func formPrompt(r commands.Reply, replay string) commands.Reply {
	f := r.Form
	r.Form = nil
	if r.Title == "" {
		r.Title = f.Title
	}
	if r.Text == "" {
		r.Text = f.Intro
	}
	if replay == "" {
		if r.Text != "" {
			r.Text += "\n"
		}
		r.Text += "Run the command again to open the form."
		return r
	}
	r.Buttons = append(r.Buttons, commands.Button{Text: "Open form", Action: actionOpen, Value: replay, Style: "primary"})
	return r
}

// fieldErrorsReply shows form errors as text when the form is gone.
func fieldErrorsReply(r commands.Reply) commands.Reply {
	names := make([]string, 0, len(r.FieldErrors))
	for name := range r.FieldErrors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r.Fields = append(r.Fields, commands.Field{Name: name, Value: r.FieldErrors[name]})
	}
	if r.Text == "" {
		r.Text = "The form has errors; please submit it again."
	}
	r.FieldErrors = nil
	return r
}
