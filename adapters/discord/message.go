package discord

import (
	"context"
	"regexp"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// messagePrefix starts a message command: "!portal owner payments-api".
const messagePrefix = "!" + CommandName

// HandleMessage answers a message command received over the gateway:
// "!portal <command>" or a message starting with a mention of the bot.
// Another message linking portal entity pages is answered with a preview
// of each (owner, on-call, docs) when Params.Previews is set. Messages
// from bots, webhooks and ourselves are ignored, and so is everything
// when message commands are off. The answer is a reply to the message,
// visible in the channel: a channel message cannot be ephemeral.
func (a *Adapter) HandleMessage(ctx context.Context, m *discordgo.MessageCreate) {
	if !a.messageCommands || m == nil || m.Message == nil || m.Author == nil {
		return
	}
	if m.Author.Bot || m.Author.System || m.WebhookID != "" || a.isSelf(m.Author.ID) {
		return
	}
	text, ok := a.commandText(m.Content)
	if !ok {
		a.previewLinks(ctx, m)
		return
	}
	if text == "" {
		text = "help"
	}
	req := &commands.Request{
		Platform:  commands.PlatformDiscord,
		UserID:    m.Author.ID,
		UserName:  firstNonEmpty(m.Author.GlobalName, m.Author.Username),
		ChannelID: m.ChannelID,
		ThreadID:  m.ID,
		Text:      text,
	}
	req.Followup = func(ctx context.Context, r commands.Reply) error {
		_, err := a.Post(ctx, m.ChannelID, m.ID, r)
		return err
	}
	rep := a.engine.Serve(ctx, req)
	if _, err := a.Post(ctx, m.ChannelID, m.ID, rep); err != nil {
		a.logger.ErrorContext(ctx, "discord message answer failed", "err", err, "channel", m.ChannelID)
	}
}

// commandText strips the "!portal" prefix or a leading mention of the bot
// (<@id> or the legacy <@!id>) and reports whether there was one.
func (a *Adapter) commandText(content string) (string, bool) {
	s := strings.TrimSpace(content)
	if len(s) >= len(messagePrefix) && strings.EqualFold(s[:len(messagePrefix)], messagePrefix) {
		rest := s[len(messagePrefix):]
		if rest == "" || rest[0] == ' ' || rest[0] == '\n' || rest[0] == '\t' {
			return oneLine(rest), true
		}
		return "", false
	}
	id, _ := a.botID.Load().(string)
	for _, mention := range []string{"<@" + id + ">", "<@!" + id + ">"} {
		if id != "" && strings.HasPrefix(s, mention) {
			return oneLine(s[len(mention):]), true
		}
	}
	return "", false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// maxPreviews bounds the links previewed per message.
const maxPreviews = 3

// linkRE finds links in a message. A link in angle brackets is one whose
// author suppressed Discord's own embed; it is left alone here too.
var linkRE = regexp.MustCompile(`<?https?://[^\s<>]+>?`)

// previewLinks replies to m with a preview of each portal entity page it
// links.
func (a *Adapter) previewLinks(ctx context.Context, m *discordgo.MessageCreate) {
	if a.previews == nil || !strings.Contains(m.Content, "http") {
		return
	}
	req := &commands.Request{
		Platform:  commands.PlatformDiscord,
		UserID:    m.Author.ID,
		UserName:  firstNonEmpty(m.Author.GlobalName, m.Author.Username),
		ChannelID: m.ChannelID,
		ThreadID:  m.ID,
	}
	seen := map[string]bool{}
	for _, link := range linkRE.FindAllString(m.Content, 20) {
		if strings.HasPrefix(link, "<") && strings.HasSuffix(link, ">") {
			continue
		}
		link = strings.TrimRight(strings.TrimPrefix(link, "<"), ">.,;:!?)")
		if seen[link] || len(seen) == maxPreviews {
			continue
		}
		rep, ok := a.previews.Preview(ctx, req, link)
		if !ok {
			continue
		}
		seen[link] = true
		if _, err := a.Post(ctx, m.ChannelID, m.ID, rep); err != nil {
			a.logger.WarnContext(ctx, "discord link preview failed", "err", err, "channel", m.ChannelID)
			return
		}
	}
}
