package discord

import (
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// noMentions is sent with every message: catalog text and user input must
// never ping @everyone, a role or a user.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// message renders r as one or more Discord messages, in order, each within
// Discord's limits. Components go on the last message. It is a pure
// function of r and the stash that keeps oversized custom ids.
func message(r commands.Reply, st *stash) []*discordgo.MessageSend {
	var msgs []*discordgo.MessageSend
	rows, dropped := components(r, st)
	if plain(r) {
		for _, part := range splitText(escape(r.Text), maxContent) {
			msgs = append(msgs, &discordgo.MessageSend{Content: part})
		}
	} else {
		msgs = packEmbeds(embeds(r))
	}
	if len(msgs) > maxMessages {
		msgs = msgs[:maxMessages]
		dropped = true
	}
	if len(msgs) == 0 {
		msgs = []*discordgo.MessageSend{{Content: "(no answer)"}}
	}
	last := msgs[len(msgs)-1]
	if dropped {
		note := "Some of this answer did not fit in Discord."
		if r.MoreURL != "" {
			note += " Full answer: " + r.MoreURL
		}
		if utf8.RuneCountInString(last.Content)+len(note)+1 > maxContent {
			last = &discordgo.MessageSend{}
			msgs = append(msgs, last)
		}
		last.Content = strings.TrimSpace(last.Content + "\n" + note)
	}
	last.Components = rows
	for _, m := range msgs {
		m.AllowedMentions = noMentions()
	}
	return msgs
}

// plain reports whether r is just text, sent as message content rather
// than an embed.
func plain(r commands.Reply) bool {
	return r.Title == "" && len(r.Fields) == 0 && len(r.Links) == 0 && len(r.Sections) == 0 && len(r.FieldErrors) == 0
}

// embeds renders r's title, text, fields and links, then one embed per
// section. An over-long description continues in further embeds.
func embeds(r commands.Reply) []*discordgo.MessageEmbed {
	out := embedParts(r.Title, r.Text, r.Links, r.Fields)
	if len(r.FieldErrors) > 0 {
		out = append(out, fieldErrorsEmbed(r.FieldErrors, nil))
	}
	for _, s := range r.Sections {
		out = append(out, embedParts(s.Title, s.Text, s.Links, s.Fields)...)
	}
	return out
}

func embedParts(title, text string, links []commands.Link, fields []commands.Field) []*discordgo.MessageEmbed {
	desc := escape(text)
	if len(links) > 0 {
		var b strings.Builder
		for _, l := range links {
			b.WriteString("\n• " + link(l.Text, l.URL))
		}
		desc = strings.TrimSpace(desc + "\n" + b.String())
	}
	var out []*discordgo.MessageEmbed
	for i, part := range splitText(desc, maxEmbedDescription) {
		e := &discordgo.MessageEmbed{Description: part}
		if i == 0 {
			e.Title = truncate(escapeTitle(title), maxEmbedTitle)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		out = []*discordgo.MessageEmbed{{Title: truncate(escapeTitle(title), maxEmbedTitle)}}
	}
	// Fields beyond one embed's limits (count, or the characters a
	// message's embeds may hold in total) continue in the next embeds.
	e := out[len(out)-1]
	for _, f := range fields {
		val := escape(f.Value)
		if f.URL != "" {
			val = link(f.Value, f.URL)
		}
		field := &discordgo.MessageEmbedField{
			Name:   truncate(orDash(f.Name), maxFieldName),
			Value:  truncate(orDash(val), maxFieldValue),
			Inline: utf8.RuneCountInString(val) <= 40,
		}
		n := utf8.RuneCountInString(field.Name) + utf8.RuneCountInString(field.Value)
		if len(e.Fields) == maxEmbedFields || embedSize(e)+n > maxEmbedTotalChars {
			e = &discordgo.MessageEmbed{}
			out = append(out, e)
		}
		e.Fields = append(e.Fields, field)
	}
	return out
}

// packEmbeds groups embeds into messages of at most maxEmbedsPerMsg embeds
// and maxEmbedTotalChars characters.
func packEmbeds(es []*discordgo.MessageEmbed) []*discordgo.MessageSend {
	var msgs []*discordgo.MessageSend
	var cur *discordgo.MessageSend
	size := 0
	for _, e := range es {
		n := embedSize(e)
		if cur == nil || len(cur.Embeds) == maxEmbedsPerMsg || size+n > maxEmbedTotalChars {
			cur = &discordgo.MessageSend{}
			msgs = append(msgs, cur)
			size = 0
		}
		cur.Embeds = append(cur.Embeds, e)
		size += n
	}
	return msgs
}

func embedSize(e *discordgo.MessageEmbed) int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	return n
}

// components renders buttons (the reply's, then each section's) in rows of
// maxButtonsPerRow and each select in a row of its own, at most maxRows
// rows. dropped reports that some did not fit.
func components(r commands.Reply, st *stash) (rows []discordgo.MessageComponent, dropped bool) {
	buttons := append([]commands.Button(nil), r.Buttons...)
	for _, s := range r.Sections {
		buttons = append(buttons, s.Buttons...)
	}
	var row []discordgo.MessageComponent
	flush := func() {
		if len(row) > 0 {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	for _, b := range buttons {
		if b.Action == "" && !isWebURL(b.URL) {
			// Discord rejects the whole message over one bad link button.
			dropped = true
			continue
		}
		if len(row) == maxButtonsPerRow {
			flush()
		}
		row = append(row, button(b, st))
	}
	flush()
	for _, s := range r.Selects {
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{selectMenu(s, st)}})
		if len(s.Options) > maxSelectOptions {
			dropped = true
		}
	}
	if len(rows) > maxRows {
		rows, dropped = rows[:maxRows], true
	}
	return rows, dropped
}

func button(b commands.Button, st *stash) discordgo.Button {
	out := discordgo.Button{Label: truncate(orDash(b.Text), maxButtonLabel)}
	if b.URL != "" && b.Action == "" {
		out.Style, out.URL = discordgo.LinkButton, b.URL
		return out
	}
	out.CustomID = st.actionID(b.Action, b.Value)
	switch b.Style {
	case "primary":
		out.Style = discordgo.PrimaryButton
	case "danger":
		out.Style = discordgo.DangerButton
	default:
		out.Style = discordgo.SecondaryButton
	}
	return out
}

func selectMenu(s commands.Select, st *stash) discordgo.SelectMenu {
	m := discordgo.SelectMenu{
		CustomID:    st.selectID(s.Action),
		Placeholder: truncate(s.Placeholder, maxSelectHolder),
	}
	for i, o := range s.Options {
		if i == maxSelectOptions {
			break
		}
		if utf8.RuneCountInString(o.Value) > maxOptionText {
			// A truncated value would come back as a different choice.
			continue
		}
		m.Options = append(m.Options, discordgo.SelectMenuOption{
			Label:       truncate(orDash(o.Label), maxOptionText),
			Value:       o.Value,
			Description: truncate(o.Hint, maxOptionText),
		})
	}
	if s.Multi && len(m.Options) > 1 {
		zero := 0
		m.MinValues, m.MaxValues = &zero, len(m.Options)
	}
	return m
}

// link renders a masked link; the text is escaped so that it cannot close
// the brackets, and the URL is sent only when it is http(s).
func link(text, url string) string {
	if text == "" {
		text = url
	}
	if !isWebURL(url) {
		return escape(text)
	}
	url = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(url)
	return "[" + escape(text) + "](" + url + ")"
}

// markdownEscaper escapes the characters Discord's markdown gives a
// meaning to anywhere in a line, and '<' so that no <@id> or <#id> form
// is rendered as a mention. "@everyone" is harmless as text because every
// message is sent with noMentions.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
	"[", `\[`, "]", `\]`, "<", `\<`,
)

// escape makes catalog or user text display literally in Discord markdown.
func escape(s string) string {
	s = markdownEscaper.Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		// Headings, quotes and lists only start a line.
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, ">") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "-#") {
			lines[i] = `\` + l
		}
	}
	return strings.Join(lines, "\n")
}

// escapeTitle escapes an embed title, which renders links and emphasis
// but not headings.
func escapeTitle(s string) string { return markdownEscaper.Replace(s) }

func isWebURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) <= 512 && !strings.ContainsAny(u, " \n\t")
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// truncate cuts s to at most n characters, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), `\`) + "…"
}

// splitText splits s into parts of at most n characters, preferring line
// breaks, then spaces.
func splitText(s string, n int) []string {
	s = strings.TrimSpace(s)
	var parts []string
	for s != "" {
		r := []rune(s)
		if len(r) <= n {
			parts = append(parts, s)
			break
		}
		cut := string(r[:n])
		i := strings.LastIndex(cut, "\n")
		if i < n/2 {
			i = strings.LastIndex(cut, " ")
		}
		if i < n/2 {
			i = len(cut)
		}
		// Never end a part with a lone escaping backslash.
		if trailing := len(cut[:i]) - len(strings.TrimRight(cut[:i], `\`)); trailing%2 == 1 {
			i--
		}
		parts = append(parts, strings.TrimSpace(cut[:i]))
		s = strings.TrimSpace(s[i:])
	}
	return parts
}
