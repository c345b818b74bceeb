package discord

import (
	"bytes"
	"context"
	"fmt"
	"strings"

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
	attach(msgs[0], r.Files)
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

// attach adds files to m as attachments (discordgo sends the message as
// multipart/form-data then). A file over Discord's upload limit, or past
// the number of attachments a message holds, is left out and the message
// says so, never silently.
func attach(m *discordgo.MessageSend, files []commands.File) {
	total := 0
	var notes []string
	for _, f := range files {
		if len(f.Data) == 0 {
			continue
		}
		if len(m.Files) == maxAttachments || total+len(f.Data) > maxUploadBytes {
			notes = append(notes, fmt.Sprintf("%s (%d KB) was not attached: over Discord's %d MiB upload limit; run portalbot report --dry-run for the full list.", f.Name, len(f.Data)>>10, maxUploadBytes>>20))
			continue
		}
		total += len(f.Data)
		m.Files = append(m.Files, &discordgo.File{Name: f.Name, ContentType: f.ContentType, Reader: bytes.NewReader(f.Data)})
	}
	if len(notes) > 0 {
		m.Content = strings.TrimSpace(m.Content + "\n" + strings.Join(notes, "\n"))
	}
}
