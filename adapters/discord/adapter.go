// Package discord connects the command engine to Discord: the /portal
// application command and its components over the gateway or the HTTP
// interactions endpoint, "!portal" message commands, and a Poster for
// reports and follow-ups. It translates and renders; commands decides.
//
// It never imports another adapter, catalog/sqlstore or bot: the engine,
// the lease and the poster's targets are passed in.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// Engine is what the adapter needs from the command engine;
// *commands.Router satisfies it.
type Engine interface {
	Serve(ctx context.Context, req *commands.Request) commands.Reply
	Commands() []commands.Command
	Suggest(ctx context.Context, source, prefix string, limit int) []commands.Option
}

// Previewer answers links to portal entity pages pasted in chat;
// *commands.Router satisfies it.
type Previewer interface {
	Preview(ctx context.Context, req *commands.Request, link string) (commands.Reply, bool)
}

// rest is the part of *discordgo.Session the adapter calls.
type rest interface {
	InteractionRespond(i *discordgo.Interaction, resp *discordgo.InteractionResponse, options ...discordgo.RequestOption) error
	InteractionResponseEdit(i *discordgo.Interaction, edit *discordgo.WebhookEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
	InteractionResponseDelete(i *discordgo.Interaction, options ...discordgo.RequestOption) error
	FollowupMessageCreate(i *discordgo.Interaction, wait bool, data *discordgo.WebhookParams, options ...discordgo.RequestOption) (*discordgo.Message, error)
	FollowupMessageEdit(i *discordgo.Interaction, messageID string, data *discordgo.WebhookEdit, options ...discordgo.RequestOption) (*discordgo.Message, error)
	ChannelMessageSendComplex(channelID string, data *discordgo.MessageSend, options ...discordgo.RequestOption) (*discordgo.Message, error)
	ApplicationCommandBulkOverwrite(appID, guildID string, cmds []*discordgo.ApplicationCommand, options ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error)
}

// Params are the adapter's dependencies and settings.
type Params struct {
	// Engine answers requests; required.
	Engine Engine
	// Session is the REST client and, when the gateway is on, the gateway
	// connection; required. Build it with NewSession.
	Session *discordgo.Session
	// AppID is the application id (DISCORD_APP_ID); required.
	AppID string
	// PublicKey verifies HTTP interactions (DISCORD_PUBLIC_KEY); nil
	// makes ServeHTTP answer 401 to everything.
	PublicKey ed25519.PublicKey
	// GuildID registers /portal in one guild (instant, for development);
	// empty registers it globally.
	GuildID string
	// MessageCommands answers "!portal ..." and mentions of the bot.
	MessageCommands bool
	// Previews answers portal entity links in other messages with an
	// embed, when MessageCommands is on; nil previews nothing.
	Previews Previewer
	// Leaser elects the one replica that holds the gateway; nil holds it
	// unconditionally (a single replica).
	Leaser Leaser
	// Holder names this process in leases; empty means a random id.
	Holder string
	// ShardID names the gateway lease per shard.
	ShardID int
	// LeaseTTL is how long the gateway lease lasts unrenewed, the time
	// another replica waits to take over from one that died; it is
	// renewed every third of it. Zero means 30 s.
	LeaseTTL time.Duration
	// Logger is scoped to the adapter by New; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DeferAfter is how long an interaction may take before the adapter
	// sends a deferred response; zero means 2 s. It must stay under
	// Discord's 3 s.
	DeferAfter time.Duration
	// RegisterBackoff is RunRegister's first wait after a failure; zero
	// means 2 s.
	RegisterBackoff time.Duration
	// OnConnection, when set, is told each gateway state change
	// (ConnConnecting, ConnConnected, ConnRetrying with the error and the
	// wait before the next attempt, ConnStandby, ConnClosed), for /readyz.
	// It must be fast.
	OnConnection func(state string, err error, retryIn time.Duration)
	// OnAPIError, when set, is called with the call's name whenever a
	// Discord REST call fails (metrics).
	OnAPIError func(call string)
}

// Adapter serves portalbot on Discord. Create it with New; its methods
// are safe for concurrent use.
type Adapter struct {
	engine          Engine
	session         *discordgo.Session
	rest            rest
	appID, guildID  string
	publicKey       ed25519.PublicKey
	messageCommands bool
	previews        Previewer // nil: no link previews
	leaser          Leaser
	holder          string
	shardID         int
	leaseTTL        time.Duration
	logger          *slog.Logger
	now             func() time.Time
	deferAfter      time.Duration
	onAPIError      func(call string)
	registerBackoff time.Duration
	connState       func(state string, err error, retryIn time.Duration) // nil: not reported
	stash           *stash
	botID           atomic.Value // string: our own user id, from Ready
	work            sync.WaitGroup
}

// New returns an adapter. It fails when a required parameter is missing.
func New(p Params) (*Adapter, error) {
	if p.Engine == nil || p.Session == nil || p.AppID == "" {
		return nil, errors.New("discord: Engine, Session and AppID are required")
	}
	if p.DeferAfter == 0 {
		p.DeferAfter = defaultDeferAfter
	}
	if p.DeferAfter >= responseDeadline {
		return nil, fmt.Errorf("discord: DeferAfter %v must be under Discord's %v", p.DeferAfter, responseDeadline)
	}
	if p.RegisterBackoff <= 0 {
		p.RegisterBackoff = 2 * time.Second
	}
	if p.LeaseTTL == 0 {
		p.LeaseTTL = defaultLeaseTTL
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Holder == "" {
		p.Holder = "discord-" + newKey()
	}
	a := &Adapter{
		engine:          p.Engine,
		session:         p.Session,
		rest:            p.Session,
		appID:           p.AppID,
		guildID:         p.GuildID,
		publicKey:       p.PublicKey,
		messageCommands: p.MessageCommands,
		previews:        p.Previews,
		leaser:          p.Leaser,
		holder:          p.Holder,
		shardID:         p.ShardID,
		leaseTTL:        p.LeaseTTL,
		logger:          p.Logger.With("component", "adapters/discord"),
		now:             p.Now,
		deferAfter:      p.DeferAfter,
		onAPIError:      p.OnAPIError,
		registerBackoff: p.RegisterBackoff,
		connState:       p.OnConnection,
		stash:           newStash(p.Now, 10000),
	}
	// For applications created since 2020 the bot user's id is the
	// application id; Ready confirms it.
	a.botID.Store(p.AppID)
	return a, nil
}

// Wait blocks until the work started by interactions (deferred answers,
// follow-ups) has finished. Call it on shutdown, after the HTTP server
// and the gateway have stopped.
func (a *Adapter) Wait() { a.work.Wait() }

// ParsePublicKey decodes DISCORD_PUBLIC_KEY, the application's Ed25519
// public key in hex.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("discord public key: want %d bytes in hex", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

func (a *Adapter) apiError(call string) {
	if a.onAPIError != nil {
		a.onAPIError(call)
	}
}

func (a *Adapter) isSelf(id string) bool {
	s, _ := a.botID.Load().(string)
	return id != "" && id == s
}
