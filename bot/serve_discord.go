package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	discordadapter "github.com/portalbot/portalbot/adapters/discord"
)

// discordParts builds serve's discord parts and registers their routes on
// a.Mux. Discord is off when DISCORD_BOT_TOKEN is empty. DISCORD_APP_ID is
// required with it. DISCORD_PUBLIC_KEY enables POST /discord/interactions;
// the gateway is on unless discord.gateway or PORTALBOT_DISCORD_GATEWAY is
// "off". DISCORD_GUILD_ID (or discord.guild_id) registers /portal in one
// guild instead of globally. PORTALBOT_DISCORD_SHARD_ID with
// discord.shards selects the gateway shard. PORTALBOT_DISCORD_API_URL
// points REST calls at another base URL (tests).
func discordParts(ctx context.Context, a *App) ([]Part, error) {
	token := a.Env.getenv("DISCORD_BOT_TOKEN")
	appID := a.Env.getenv("DISCORD_APP_ID")
	keyHex := a.Env.getenv("DISCORD_PUBLIC_KEY")
	if token == "" {
		if appID != "" || keyHex != "" {
			return nil, errors.New("discord: DISCORD_APP_ID or DISCORD_PUBLIC_KEY is set but DISCORD_BOT_TOKEN is empty")
		}
		return nil, nil
	}
	if appID == "" {
		return nil, errors.New("discord: DISCORD_APP_ID is required with DISCORD_BOT_TOKEN")
	}
	cfg := a.Config.Discord
	gateway := strings.ToLower(cfg.Gateway)
	if v := a.Env.getenv("PORTALBOT_DISCORD_GATEWAY"); v != "" {
		gateway = strings.ToLower(v)
	}
	switch gateway {
	case "", "on":
		gateway = "on"
	case "off":
	default:
		return nil, fmt.Errorf("discord: gateway: want on or off, got %q", gateway)
	}
	guild := cfg.GuildID
	if v := a.Env.getenv("DISCORD_GUILD_ID"); v != "" {
		guild = v
	}
	shardID := 0
	if v := a.Env.getenv("PORTALBOT_DISCORD_SHARD_ID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("discord: PORTALBOT_DISCORD_SHARD_ID: want a number, got %q", v)
		}
		shardID = n
	}

	session, err := discordadapter.NewSession(discordadapter.SessionConfig{
		Token:           discordadapter.Token(token),
		APIURL:          a.Env.getenv("PORTALBOT_DISCORD_API_URL"),
		MessageCommands: cfg.MessageCommands,
		ShardID:         shardID,
		ShardCount:      cfg.Shards,
	})
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	p := discordadapter.Params{
		Engine:          a.Router,
		Session:         session,
		AppID:           appID,
		GuildID:         guild,
		MessageCommands: cfg.MessageCommands,
		Previews:        a.Router,
		Holder:          a.Holder,
		ShardID:         shardID,
		Logger:          a.Logger,
	}
	if keyHex != "" {
		if p.PublicKey, err = discordadapter.ParsePublicKey(keyHex); err != nil {
			return nil, fmt.Errorf("discord: DISCORD_PUBLIC_KEY: %w", err)
		}
	}
	if a.Connections != nil && gateway == "on" {
		p.OnConnection = a.Connections.Reporter(fmt.Sprintf("discord_gateway_shard_%d", shardID))
	}
	if a.Store != nil {
		// Every replica on the same database agrees on one gateway holder.
		p.Leaser = a.Store
	}
	if m := a.Metrics; m != nil {
		p.OnAPIError = func(call string) { m.PlatformErrors.WithLabelValues("discord", call).Inc() }
		session.AddHandler(func(_ *discordgo.Session, _ *discordgo.RateLimit) { m.RateLimited.WithLabelValues("discord").Inc() })
	}
	ad, err := discordadapter.New(p)
	if err != nil {
		return nil, err
	}
	if p.PublicKey != nil {
		a.Mux.Handle("POST /discord/interactions", ad)
	}
	a.Posters["discord"] = ad
	logger := a.Logger.With("component", "adapters/discord")
	if p.PublicKey == nil && gateway == "off" {
		logger.WarnContext(ctx, "discord: no DISCORD_PUBLIC_KEY and the gateway is off: only posting works")
	}

	parts := []Part{func(ctx context.Context) error {
		// Registration is idempotent and retried while Discord is
		// unreachable; a failure retrying cannot fix is logged and the bot
		// keeps serving what it registered before.
		if err := ad.RunRegister(ctx); err != nil {
			logger.ErrorContext(ctx, "discord command registration failed", "err", err)
		}
		<-ctx.Done()
		ad.Wait() // let deferred answers and follow-ups finish
		return nil
	}}
	if gateway == "on" {
		parts = append(parts, ad.RunGateway)
	}
	logger.InfoContext(ctx, "discord enabled", "http", p.PublicKey != nil, "gateway", gateway == "on",
		"message_commands", cfg.MessageCommands, "guild", guild, "shard", shardID, "shards", max(cfg.Shards, 1))
	return parts, nil
}
