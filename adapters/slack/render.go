package slack

import (
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// Action ids the adapter handles itself; the engine never sees them.
const (
	// actionShare re-posts an ephemeral answer in the channel; its value
	// is the command text.
	actionShare = "portalbot_share"
	// actionOpen opens a form whose trigger_id had expired (or that was
	// asked for in a message event, which has none); its value is the
	// command text.
	actionOpen = "portalbot_open"
	// actionLink marks URL buttons: Slack still reports their clicks.
	actionLink = "portalbot_link"
)

// renderer turns a Reply into blocks. Action ids get a "#n" suffix so that
// two buttons with the same Action stay distinct; actionID strips it.
type renderer struct {
	n      int
	blocks []slackgo.Block
}

// contentBlocks renders r without a limit on the number of blocks: long
// text is split into several sections, fields into sections of at most 10,
// buttons into actions blocks of at most 25. Callers truncate or split.
func contentBlocks(r commands.Reply) []slackgo.Block {
	rd := renderer{blocks: make([]slackgo.Block, 0, 8)}
	if r.Title != "" {
		rd.add(slackgo.NewHeaderBlock(plain(truncate(r.Title, maxHeaderText))))
	}
	rd.text(escape(r.Text))
	rd.fields(r.Fields)
	rd.links(r.Links)
	for _, s := range r.Sections {
		rd.add(slackgo.NewDividerBlock())
		body := escape(s.Text)
		if s.Title != "" {
			body = "*" + escape(s.Title) + "*\n" + body
		}
		rd.text(strings.TrimSuffix(body, "\n"))
		rd.fields(s.Fields)
		rd.links(s.Links)
		rd.actions(s.Buttons, nil)
	}
	rd.actions(r.Buttons, r.Selects)
	return rd.blocks
}

func (rd *renderer) add(b ...slackgo.Block) { rd.blocks = append(rd.blocks, b...) }

func (rd *renderer) id(action string) string {
	rd.n++
	return truncate(action, maxID-8) + "#" + strconv.Itoa(rd.n)
}

// actionID returns the Action a rendered action id stands for.
func actionID(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			return id[:i]
		}
	}
	return id
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

// text adds escaped mrkdwn as sections of at most maxSectionText each.
func (rd *renderer) text(md string) {
	if strings.TrimSpace(md) == "" {
		return
	}
	for _, chunk := range splitText(md, maxSectionText) {
		rd.add(slackgo.NewSectionBlock(mrkdwn(chunk), nil, nil))
	}
}

func (rd *renderer) fields(fs []commands.Field) {
	if len(fs) == 0 {
		return
	}
	objs := make([]*slackgo.TextBlockObject, 0, len(fs))
	for _, f := range fs {
		v := escape(f.Value)
		if f.URL != "" {
			v = link(f.Value, f.URL)
		}
		if v == "" {
			v = "–"
		}
		objs = append(objs, mrkdwn(truncateEscaped("*"+escape(f.Name)+"*\n"+v, maxFieldText)))
	}
	for len(objs) > 0 {
		n := min(len(objs), maxSectionFields)
		rd.add(slackgo.NewSectionBlock(nil, objs[:n], nil))
		objs = objs[n:]
	}
}

func (rd *renderer) links(ls []commands.Link) {
	if len(ls) == 0 {
		return
	}
	lines := make([]string, 0, len(ls))
	for _, l := range ls {
		lines = append(lines, "• "+link(l.Text, l.URL))
	}
	rd.text(strings.Join(lines, "\n"))
}

func (rd *renderer) actions(bs []commands.Button, ss []commands.Select) {
	if len(bs)+len(ss) == 0 {
		return
	}
	els := make([]slackgo.BlockElement, 0, len(bs)+len(ss)+1) // room for the share button
	for _, b := range bs {
		els = append(els, rd.button(b))
	}
	for _, s := range ss {
		els = append(els, rd.selectElement(s))
	}
	for len(els) > 0 {
		n := min(len(els), maxActionElements)
		rd.add(slackgo.NewActionBlock("", els[:n]...))
		els = els[n:]
	}
}

func (rd *renderer) button(b commands.Button) *slackgo.ButtonBlockElement {
	text := plain(truncate(b.Text, maxButtonText))
	if b.URL != "" {
		e := slackgo.NewButtonBlockElement(rd.id(actionLink), "", text)
		if u := safeURL(b.URL); u != "" && len(b.URL) <= maxURL {
			e.URL = b.URL
		}
		e.Style = slackgo.Style(b.Style)
		return e
	}
	e := slackgo.NewButtonBlockElement(rd.id(b.Action), truncate(b.Value, maxButtonValue), text)
	e.Style = slackgo.Style(b.Style)
	return e
}

func (rd *renderer) selectElement(s commands.Select) slackgo.BlockElement {
	opts := options(s.Options)
	var ph *slackgo.TextBlockObject
	if s.Placeholder != "" {
		ph = plain(truncate(s.Placeholder, maxPlaceholder))
	}
	if s.Multi {
		return slackgo.NewOptionsMultiSelectBlockElement(slackgo.MultiOptTypeStatic, ph, rd.id(s.Action), opts...)
	}
	return slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, ph, rd.id(s.Action), opts...)
}

// options converts at most maxSelectOptions options; an option whose value
// is too long for Slack is left out rather than sent truncated, since a
// truncated value would name something else.
func options(in []commands.Option) []*slackgo.OptionBlockObject {
	out := make([]*slackgo.OptionBlockObject, 0, min(len(in), maxSelectOptions))
	for _, o := range in {
		if len(out) == maxSelectOptions {
			break
		}
		if o.Value == "" || len(o.Value) > maxOptionValue {
			continue
		}
		out = append(out, option(o))
	}
	return out
}

func option(o commands.Option) *slackgo.OptionBlockObject {
	label := o.Label
	if label == "" {
		label = o.Value
	}
	var desc *slackgo.TextBlockObject
	if o.Hint != "" {
		desc = plain(truncate(o.Hint, maxOptionText))
	}
	return slackgo.NewOptionBlockObject(o.Value, plain(truncate(label, maxOptionText)), desc)
}

// messageBlocks renders r as one message: at most maxMessageBlocks blocks,
// ending with a "see more in the portal" note when content was cut, and a
// "Share in channel" button when share (the command text) is set and the
// reply is ephemeral.
func messageBlocks(r commands.Reply, share string) []slackgo.Block {
	content := contentBlocks(r)
	var tail []slackgo.Block
	if share != "" && !r.InChannel && len(share) <= maxButtonValue {
		btn := slackgo.NewButtonBlockElement(actionShare, share, plain("Share in channel"))
		// Join the reply's last row of buttons when it has room.
		if n := len(content); n > 0 && n <= maxMessageBlocks {
			if ab, ok := content[n-1].(*slackgo.ActionBlock); ok && len(ab.Elements.ElementSet) < maxActionElements {
				ab.Elements.ElementSet = append(ab.Elements.ElementSet, btn)
				btn = nil
			}
		}
		if btn != nil {
			tail = append(tail, slackgo.NewActionBlock("", btn))
		}
	}
	room := maxMessageBlocks - len(tail)
	if len(content) > room {
		content = append(content[:room-1], moreBlock(r.MoreURL, len(content)-(room-1)))
	}
	return append(content, tail...)
}

// moreBlock says that n blocks were left out, linking to the portal.
func moreBlock(moreURL string, n int) slackgo.Block {
	msg := "_Truncated: " + strconv.Itoa(n) + " more block(s) did not fit in Slack._"
	if safeURL(moreURL) != "" {
		msg = "_Truncated to fit in Slack: " + link("see more in the portal", moreURL) + "._"
	}
	return slackgo.NewContextBlock("", mrkdwn(msg))
}

// splitBlocks renders r as one or more messages of at most
// maxMessageBlocks blocks each, losing nothing: the Poster sends the first
// and threads the rest under it.
func splitBlocks(r commands.Reply) [][]slackgo.Block {
	content := contentBlocks(r)
	var out [][]slackgo.Block
	for len(content) > maxMessageBlocks {
		out = append(out, content[:maxMessageBlocks])
		content = content[maxMessageBlocks:]
	}
	if len(content) > 0 || len(out) == 0 {
		out = append(out, content)
	}
	return out
}

// fallbackText is the notification text sent with blocks (shown in
// notifications and by clients that cannot render blocks).
func fallbackText(r commands.Reply) string {
	s := r.Title
	if r.Text != "" {
		if s != "" {
			s += ": "
		}
		s += r.Text
	}
	if s == "" && len(r.Sections) > 0 {
		s = r.Sections[0].Title
	}
	if s == "" {
		s = "portalbot"
	}
	return truncateEscaped(escape(s), maxMessageText)
}
