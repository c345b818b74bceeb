package slack

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// escape makes user text safe in mrkdwn: Slack treats &, < and > as
// control characters (<@U1>, <!channel>, <url|text>), so a catalog
// description cannot ping a channel or forge a link.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return mrkdwnEscaper.Replace(s) }

// safeURL returns u ready to sit inside <u|text>, or "" when u is not an
// absolute http(s) URL. The characters that end a link are percent-encoded.
func safeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	s := p.String()
	s = strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(s)
	return strings.ReplaceAll(s, "&", "&amp;")
}

// link renders text as a mrkdwn link to u, or as plain escaped text when u
// is not a usable URL.
func link(text, u string) string {
	su := safeURL(u)
	if text == "" {
		text = u
	}
	if su == "" {
		return escape(text)
	}
	return "<" + su + "|" + escape(text) + ">"
}

// truncate cuts s to at most max bytes (Slack counts characters; bytes are
// a conservative bound) at a rune boundary, ending with "…" when cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ell = "…"
	cut := max - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// truncateEscaped is truncate for escaped mrkdwn: it never cuts inside an
// entity such as &amp;.
func truncateEscaped(s string, max int) string {
	if len(s) <= max {
		return s
	}
	t := truncate(s, max)
	body := strings.TrimSuffix(t, "…")
	if i := strings.LastIndexByte(body, '&'); i >= 0 && !strings.Contains(body[i:], ";") {
		body = body[:i]
	}
	return body + "…"
}

// splitText splits escaped mrkdwn into chunks of at most max bytes,
// preferring line breaks, then spaces; it never cuts inside a rune or an
// entity, so no content is lost.
func splitText(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := strings.LastIndexByte(s[:max], '\n')
		if cut < max/2 {
			if sp := strings.LastIndexByte(s[:max], ' '); sp > cut {
				cut = sp
			}
		}
		if cut <= 0 {
			cut = max
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			if i := strings.LastIndexByte(s[:cut], '&'); i >= 0 && i > cut-6 && !strings.Contains(s[i:cut], ";") {
				cut = i
			}
		}
		out = append(out, s[:cut])
		s = strings.TrimLeft(s[cut:], "\n ")
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
