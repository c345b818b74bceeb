package slack

import (
	"errors"
	"mime"
	"net/url"
	"strings"

	slackgo "github.com/slack-go/slack"
)

// formType is the content type of the forms Slack posts.
const formType = "application/x-www-form-urlencoded"

var errSemicolon = errors.New("invalid semicolon separator in query")

// parseSlashCommand decodes a verified slash-command body as
// slackgo.SlashCommandParse does with net/http's form parsing: the first
// value of each field of an application/x-www-form-urlencoded body (no
// fields for another content type), and an error for a malformed body (a
// bad escape or a semicolon separator anywhere, or a malformed content
// type). It does so without copying the request or building url.Values:
// only the fields kept are unescaped, and those without escapes are
// slices of one copy of the body.
func parseSlashCommand(contentType string, body []byte) (slackgo.SlashCommand, error) {
	var sc slackgo.SlashCommand
	if contentType != formType {
		if contentType == "" {
			return sc, nil // application/octet-stream (RFC 7231 3.1.1.5): no form
		}
		ct, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return sc, err
		}
		if ct != formType {
			return sc, nil
		}
	}
	var seen uint16
	set := func(bit uint16, dst *string, v string) error {
		if seen&bit != 0 {
			return validEscapes(v)
		}
		seen |= bit
		u, err := url.QueryUnescape(v)
		*dst = u
		return err
	}
	var install string
	var firstErr error
	s := string(body)
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if strings.Contains(kv, ";") {
			firstErr = orErr(firstErr, errSemicolon)
			continue
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			firstErr = orErr(firstErr, err)
			continue
		}
		var dst *string
		var bit uint16
		switch k {
		case "token":
			dst, bit = &sc.Token, 1<<0
		case "team_id":
			dst, bit = &sc.TeamID, 1<<1
		case "team_domain":
			dst, bit = &sc.TeamDomain, 1<<2
		case "enterprise_id":
			dst, bit = &sc.EnterpriseID, 1<<3
		case "enterprise_name":
			dst, bit = &sc.EnterpriseName, 1<<4
		case "is_enterprise_install":
			dst, bit = &install, 1<<5
		case "channel_id":
			dst, bit = &sc.ChannelID, 1<<6
		case "channel_name":
			dst, bit = &sc.ChannelName, 1<<7
		case "user_id":
			dst, bit = &sc.UserID, 1<<8
		case "user_name":
			dst, bit = &sc.UserName, 1<<9
		case "command":
			dst, bit = &sc.Command, 1<<10
		case "text":
			dst, bit = &sc.Text, 1<<11
		case "response_url":
			dst, bit = &sc.ResponseURL, 1<<12
		case "trigger_id":
			dst, bit = &sc.TriggerID, 1<<13
		case "api_app_id":
			dst, bit = &sc.APIAppID, 1<<14
		}
		if dst == nil {
			err = validEscapes(v)
		} else {
			err = set(bit, dst, v)
		}
		firstErr = orErr(firstErr, err)
	}
	if firstErr != nil {
		return slackgo.SlashCommand{}, firstErr
	}
	sc.IsEnterpriseInstall = install == "true"
	return sc, nil
}

// orErr returns the first non-nil of a and b.
func orErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// validEscapes reports, as url.QueryUnescape would, a malformed escape in
// s, without unescaping it.
func validEscapes(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			_, err := url.QueryUnescape(s)
			return err
		}
		i += 2
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
