package discord

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Token is the bot token. It prints and logs as "[redacted]".
type Token string

// String hides the token.
func (Token) String() string { return "[redacted]" }

// LogValue hides the token from slog.
func (Token) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// SessionConfig says how to build the discordgo session.
type SessionConfig struct {
	// Token is the bot token (DISCORD_BOT_TOKEN), with or without "Bot ".
	Token Token
	// APIURL replaces https://discord.com/api in every REST call
	// (PORTALBOT_DISCORD_API_URL); empty means Discord itself. For tests
	// against a fake server.
	APIURL string
	// MessageCommands asks for the intents message commands need.
	MessageCommands bool
	// ShardID and ShardCount select this connection's shard; a zero
	// ShardCount means one shard.
	ShardID, ShardCount int
}

// discordAPI is the prefix discordgo's package-level endpoint variables
// start with (endpoints.go: EndpointDiscord + "api/").
const discordAPI = "https://discord.com/api"

// NewSession returns a discordgo session with the least gateway intents
// portalbot needs: guilds only, plus guild and direct messages and the
// privileged MESSAGE_CONTENT intent when message commands are on
// (PLATFORM.md, Discord: intents; slash commands need no message intent).
// It does not connect; the gateway part calls Open.
func NewSession(c SessionConfig) (*discordgo.Session, error) {
	tok := string(c.Token)
	if tok == "" {
		return nil, errors.New("discord session: no bot token")
	}
	if !strings.HasPrefix(tok, "Bot ") {
		tok = "Bot " + tok
	}
	s, err := discordgo.New(tok)
	if err != nil {
		return nil, fmt.Errorf("discord session: %w", scrub(err))
	}
	s.Identify.Intents = Intents(c.MessageCommands)
	if c.ShardCount > 0 {
		if c.ShardID < 0 || c.ShardID >= c.ShardCount {
			return nil, fmt.Errorf("discord session: shard id %d out of range for %d shards", c.ShardID, c.ShardCount)
		}
		s.ShardID, s.ShardCount = c.ShardID, c.ShardCount
		s.Identify.Shard = &[2]int{c.ShardID, c.ShardCount}
	}
	s.Client = &http.Client{Timeout: 20 * time.Second}
	if c.APIURL != "" {
		base, err := url.Parse(strings.TrimRight(c.APIURL, "/"))
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return nil, fmt.Errorf("discord session: api url: want http(s)://host[/path], got %q", c.APIURL)
		}
		s.Client.Transport = &rewriteTransport{base: base, next: http.DefaultTransport}
	}
	return s, nil
}

// Intents returns the gateway intents for the given mode.
func Intents(messageCommands bool) discordgo.Intent {
	in := discordgo.IntentsGuilds
	if messageCommands {
		in |= discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages | discordgo.IntentMessageContent
	}
	return in
}

// rewriteTransport sends requests for https://discord.com/api/... to base
// instead: discordgo builds its URLs from package-level variables, so the
// transport is the one clean place to redirect them.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

// RoundTrip rewrites Discord API URLs and passes every request on.
func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme+"://"+r.URL.Host+"/api" == discordAPI && strings.HasPrefix(r.URL.Path, "/api") {
		r = r.Clone(r.Context())
		rest := strings.TrimPrefix(r.URL.Path, "/api")
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = t.base.Path + rest
		r.URL.RawPath = ""
		r.Host = t.base.Host
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, &redirectedError{host: t.base.Host, err: err}
		}
		return resp, nil
	}
	return t.next.RoundTrip(r)
}

// redirectedError names the host a redirected request really went to:
// http.Client reports the URL discordgo built (discord.com), which would
// send whoever reads the log to the wrong place.
type redirectedError struct {
	host string
	err  error
}

func (e *redirectedError) Error() string { return e.host + ": " + e.err.Error() }
func (e *redirectedError) Unwrap() error { return e.err }

// scrub removes URLs from transport errors: interaction and webhook URLs
// carry the interaction token, which must never reach a log.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		host := "discord"
		if perr == nil {
			host = u.Host
		}
		inner := ue.Err
		var re *redirectedError
		if errors.As(inner, &re) {
			host, inner = re.host, re.err
		}
		return fmt.Errorf("%s %s: %w", ue.Op, host, inner)
	}
	return err
}
