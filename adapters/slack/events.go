package slack

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/portalbot/portalbot/commands"
	"github.com/slack-go/slack/slackevents"
)

// message is the part of an app_mention or message.im event that matters.
type message struct {
	user, botID, subtype string
	channel, channelType string
	text, ts, threadTS   string
	mention              bool
}

// callbackEvent answers one Events API callback in the background: the
// caller has acknowledged it already. retry is the delivery attempt
// (0 for the first) and only logged: a retry may be the only delivery
// that reached us, so it is de-duplicated by event id, never dropped.
func (a *Adapter) callbackEvent(ctx context.Context, outer *slackevents.EventsAPICallbackEvent, retry int) {
	if outer == nil || outer.InnerEvent == nil {
		return
	}
	switch innerType(*outer.InnerEvent) {
	case "link_shared":
		if a.previews != nil && a.firstDelivery(ctx, outer.EventID, retry) {
			a.unfurl(ctx, *outer.InnerEvent)
		}
		return
	case "app_home_opened":
		if a.home != nil && a.firstDelivery(ctx, outer.EventID, retry) {
			a.appHomeOpened(ctx, *outer.InnerEvent)
		}
		return
	}
	m, ok := innerMessage(*outer.InnerEvent)
	if !ok || a.ignore(m) {
		return
	}
	if !a.firstDelivery(ctx, outer.EventID, retry) {
		return
	}
	thread := m.threadTS
	if thread == "" && m.mention {
		thread = m.ts // answer a mention in its thread, not in the channel
	}
	text := commandText(m.text, a.botUser)
	if text == "" {
		text = "help"
	}
	conv := &conversation{channel: m.channel, thread: thread, user: m.user, public: true}
	req := &commands.Request{
		Platform:  commands.PlatformSlack,
		UserID:    m.user,
		ChannelID: m.channel,
		ThreadID:  thread,
		Text:      text,
		Followup:  a.followup(conv),
	}
	conv.replay = replayValue(req)
	a.fillEmail(ctx, req)
	a.deliverLogged(ctx, conv, a.engine.Serve(ctx, req))
}

// firstDelivery reports whether the event with id eventID is seen for the
// first time by any replica sharing the Deduper (true when unknown).
func (a *Adapter) firstDelivery(ctx context.Context, eventID string, retry int) bool {
	if eventID == "" {
		return true
	}
	first, err := a.dedupe.Once(ctx, "slack:event:"+eventID, eventDedupeTTL)
	if err != nil {
		// Answering twice beats never answering.
		a.logger.WarnContext(ctx, "event de-duplication unavailable", "event_id", eventID, "err", err)
		return true
	}
	if !first {
		a.logger.DebugContext(ctx, "duplicate event ignored", "event_id", eventID, "retry", retry)
	}
	return first
}

// innerType is an inner event's type, "" when unreadable.
func innerType(raw json.RawMessage) string {
	var head struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &head) != nil {
		return ""
	}
	return head.Type
}

func innerMessage(raw json.RawMessage) (message, bool) {
	switch innerType(raw) {
	case "app_mention":
		var e slackevents.AppMentionEvent
		if json.Unmarshal(raw, &e) != nil {
			return message{}, false
		}
		return message{user: e.User, botID: e.BotID, channel: e.Channel, text: e.Text,
			ts: e.TimeStamp, threadTS: e.ThreadTimeStamp, mention: true}, true
	case "message":
		var e slackevents.MessageEvent
		if json.Unmarshal(raw, &e) != nil {
			return message{}, false
		}
		return message{user: e.User, botID: e.BotID, subtype: e.SubType, channel: e.Channel,
			channelType: e.ChannelType, text: e.Text, ts: e.TimeStamp, threadTS: e.ThreadTimeStamp}, true
	}
	return message{}, false
}

// ignore reports whether m is not a person talking to the bot: bot
// messages (ours included), edits and other subtypes, and channel
// messages that are not mentions (those arrive as app_mention).
func (a *Adapter) ignore(m message) bool {
	switch {
	case m.botID != "", m.subtype != "", m.user == "", m.channel == "":
		return true
	case a.botUser != "" && m.user == a.botUser:
		return true
	case !m.mention && m.channelType != "im":
		return true
	}
	return false
}

var (
	// mentionRE matches a user mention, <@U123> or <@U123|name>.
	mentionRE = regexp.MustCompile(`<@([A-Z0-9]+)(\|[^>]*)?>`)
	// linkRE matches Slack's other angle-bracket markup: links
	// <url|label>, <url>, channels <#C1|name>, specials <!here>.
	linkRE = regexp.MustCompile(`<([^<>|]*)(\|([^<>]*))?>`)
)

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// commandText turns a message's text into a command line: mentions of the
// bot (and a leading mention of anyone) are removed, links become their
// label, and Slack's escaping is undone.
func commandText(text, botUser string) string {
	text = strings.TrimSpace(text)
	if loc := mentionRE.FindStringIndex(text); loc != nil && loc[0] == 0 {
		text = text[loc[1]:]
	}
	text = mentionRE.ReplaceAllStringFunc(text, func(s string) string {
		if sm := mentionRE.FindStringSubmatch(s); botUser != "" && sm[1] == botUser {
			return ""
		}
		return s
	})
	text = linkRE.ReplaceAllStringFunc(text, func(s string) string {
		sm := linkRE.FindStringSubmatch(s)
		if sm[3] != "" {
			return sm[3]
		}
		target := sm[1]
		if strings.HasPrefix(target, "@") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "!") {
			return ""
		}
		return strings.TrimPrefix(strings.TrimPrefix(target, "mailto:"), "tel:")
	})
	text = unescaper.Replace(text)
	return strings.Join(strings.Fields(text), " ")
}
