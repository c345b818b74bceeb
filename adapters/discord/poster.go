package discord

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

var _ commands.Poster = (*Adapter)(nil)

// Post posts r into a channel as one or more messages, for scheduled
// reports and follow-ups outside an interaction. With threadID (a message
// id) the first message replies to that message. It returns the first
// message's id, usable as a later threadID. Rate limits are discordgo's
// business (per-route buckets, retry after 429); other failures are
// returned, after the messages already posted.
func (a *Adapter) Post(ctx context.Context, channelID, threadID string, r commands.Reply) (string, error) {
	_, msgs := a.render(r, false, "")
	first := ""
	for n, m := range msgs {
		if n == 0 && threadID != "" {
			no := false
			m.Reference = &discordgo.MessageReference{MessageID: threadID, ChannelID: channelID, FailIfNotExists: &no}
		}
		sent, err := a.rest.ChannelMessageSendComplex(channelID, m, discordgo.WithContext(ctx))
		if err != nil {
			a.apiError("channel_message_send")
			return first, fmt.Errorf("discord post %d/%d to %s: %w", n+1, len(msgs), channelID, scrub(err))
		}
		if first == "" && sent != nil {
			first = sent.ID
		}
	}
	return first, nil
}
