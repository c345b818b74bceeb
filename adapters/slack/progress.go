package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	slackgo "github.com/slack-go/slack"

	"github.com/portalbot/portalbot/commands"
)

// progress returns a Request.Progress for c: the first report is posted as
// a message in c's channel (and thread), later ones replace it with
// chat.update. A run then takes one message, and none of response_url's
// 5 uses (PLATFORM.md), which an ephemeral message could not avoid: Slack
// cannot update an ephemeral message through the Web API.
func (a *Adapter) progress(c *conversation) func(ctx context.Context, r commands.Reply) error {
	var mu sync.Mutex
	ts := "" // the progress message once posted; guarded by mu
	return func(ctx context.Context, r commands.Reply) error {
		if c.channel == "" {
			return errors.New("slack progress: no channel")
		}
		mu.Lock()
		defer mu.Unlock()
		opts := []slackgo.MsgOption{
			slackgo.MsgOptionText(fallbackText(r), false),
			slackgo.MsgOptionBlocks(messageBlocks(r, "")...),
		}
		if ts != "" {
			if _, _, _, err := a.api.UpdateMessageContext(ctx, c.channel, ts, opts...); err != nil {
				a.observe("chat.update", err)
				return fmt.Errorf("slack update progress: %w", err)
			}
			return nil
		}
		if c.thread != "" {
			opts = append(opts, slackgo.MsgOptionTS(c.thread))
		}
		_, posted, err := a.api.PostMessageContext(ctx, c.channel, opts...)
		if err != nil {
			a.observe("chat.postMessage", err)
			return fmt.Errorf("slack post progress: %w", err)
		}
		ts = posted
		return nil
	}
}
