package discord

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// progress returns the Request.Progress of an interaction: the first
// report is a follow-up message, later ones edit it, so a run takes one
// message rather than one per step. Past the token's lifetime (with a
// minute's margin) it refuses, and the caller falls back to Followup,
// which posts in the channel.
func (a *Adapter) progress(i *discordgo.Interaction, start time.Time) func(ctx context.Context, r commands.Reply) error {
	var mu sync.Mutex
	id := "" // the progress message once created; guarded by mu
	return func(ctx context.Context, r commands.Reply) error {
		if a.now().Sub(start) > tokenLifetime-time.Minute {
			return errors.New("discord progress: interaction token expired")
		}
		_, msgs := a.render(r, false, "")
		if len(msgs) == 0 {
			return nil
		}
		m := msgs[0]
		mu.Lock()
		defer mu.Unlock()
		if id != "" {
			if _, err := a.rest.FollowupMessageEdit(i, id, webhookEdit(m), discordgo.WithContext(ctx)); err != nil {
				a.apiError("followup_message_edit")
				return fmt.Errorf("discord edit progress: %w", scrub(err))
			}
			return nil
		}
		msg, err := a.rest.FollowupMessageCreate(i, true, webhookParams(m, ephemeral(r)), discordgo.WithContext(ctx))
		if err != nil {
			a.apiError("followup_message_create")
			return fmt.Errorf("discord progress: %w", scrub(err))
		}
		id = msg.ID
		return nil
	}
}
