package discord

import (
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// actionShare is the adapter's own button action: it runs a typed
// command again and answers in the channel for everyone, as Slack's
// "Share in channel" does. Its value is the command text. The engine
// never sees it.
const actionShare = "portalbot.share"

// withShare adds a "Share in channel" button to an ephemeral answer of a
// typed command. Answers to buttons and forms are not re-run: their
// actions may have effects (a template launch).
func withShare(req *commands.Request, rep commands.Reply) commands.Reply {
	if rep.InChannel || rep.Form != nil || len(rep.FieldErrors) > 0 || req.Action != nil || strings.TrimSpace(req.Text) == "" {
		return rep
	}
	n := len(rep.Buttons)
	for _, s := range rep.Sections {
		n += len(s.Buttons)
	}
	if n >= maxButtonsPerRow*maxRows-len(rep.Selects)*maxButtonsPerRow {
		return rep // no room left; the answer's own buttons come first
	}
	rep.Buttons = append(append([]commands.Button(nil), rep.Buttons...), commands.Button{Text: "Share in channel", Action: actionShare, Value: req.Text})
	return rep
}

// sharedBy notes on the first message who shared it. The mention renders
// as the user's name and pings nobody: every message is sent with no
// allowed mentions.
func sharedBy(msgs []*discordgo.MessageSend, userID string) {
	if len(msgs) == 0 || userID == "" || strings.Trim(userID, "0123456789") != "" {
		return
	}
	note := "Shared by <@" + userID + ">"
	m := msgs[0]
	if utf8.RuneCountInString(m.Content)+utf8.RuneCountInString(note)+1 > maxContent {
		return
	}
	m.Content = strings.TrimSpace(m.Content + "\n" + note)
}
