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

// linkEscaper percent-encodes the characters that end a mrkdwn link.
var linkEscaper = strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20")

// safeURL returns u ready to sit inside <u|text>, or "" when u is not an
// absolute http(s) URL. The characters that end a link are percent-encoded.
func safeURL(u string) string {
	if plainURL(u) {
		// What url.Parse and String would give back unchanged: every
		// portal link of an answer, without parsing it.
		if strings.IndexByte(u, '&') < 0 {
			return u
		}
		return strings.ReplaceAll(u, "&", "&amp;")
	}
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	s := linkEscaper.Replace(p.String())
	return strings.ReplaceAll(s, "&", "&amp;")
}

// plainURL reports whether u is an http(s) URL that url.Parse accepts and
// String writes back as it is: lower-case scheme, a host of letters,
// digits, dots and hyphens with an optional numeric port, a path of
// unreserved characters and slashes, and an optional query of unreserved
// characters, '=', '&', '+', ',' and percent escapes (String writes a query
// as it was given). Anything else takes the slow path.
func plainURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
		}
	}
	i := 0
	for i < len(rest) && (isAlnum(rest[i]) || rest[i] == '.' || rest[i] == '-') {
		i++
	}
	if i == 0 {
		return false
	}
	if i < len(rest) && rest[i] == ':' {
		j := i + 1
		for j < len(rest) && '0' <= rest[j] && rest[j] <= '9' {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(rest) && rest[i] != '/' && rest[i] != '?' {
		return false
	}
	for ; i < len(rest) && rest[i] != '?'; i++ {
		if c := rest[i]; !isUnreserved(c) && c != '/' {
			return false
		}
	}
	for i++; i < len(rest); i++ {
		switch c := rest[i]; {
		case isUnreserved(c), c == '=', c == '&', c == '+', c == ',':
		case c == '%' && i+2 < len(rest) && isHex(rest[i+1]) && isHex(rest[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isUnreserved reports an unreserved URL character (RFC 3986 2.3).
func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
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
