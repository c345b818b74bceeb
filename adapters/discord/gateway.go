package discord

import (
	"context"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/lease"
)

// Leaser elects one holder of a named lease; the SQL store satisfies it
// through Postgres. TryLease takes or renews the lease for holder and
// reports whether holder has it for ttl from now; ReleaseLease gives it
// up early.
type Leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// defaultLeaseTTL is how long a gateway lease lasts unrenewed: the time
// another replica waits to take over from one that died.
const defaultLeaseTTL = 30 * time.Second

// RunGateway holds the Discord gateway until ctx ends: it handles
// interactions and, when enabled, message commands. Every session on a
// shard receives every event, so with a Leaser only the replica holding
// the lease "discord-gateway-<shard>" connects; the others wait to take
// over (PLATFORM.md, Discord: replicas). discordgo reconnects by itself
// after network errors.
func (a *Adapter) RunGateway(ctx context.Context) error {
	defer a.onConnection(ConnClosed, nil, 0)
	defer a.session.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { a.HandleReady(r) })()
	// discordgo reconnects by itself after the gateway drops; say so.
	defer a.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		if ctx.Err() == nil {
			a.logger.WarnContext(ctx, "discord gateway disconnected; discordgo reconnects")
			a.onConnection(ConnConnecting, nil, 0)
		}
	})()
	defer a.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Connect) { a.onConnection(ConnConnected, nil, 0) })()
	defer a.session.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { a.onConnection(ConnConnected, nil, 0) })()
	defer a.session.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		a.HandleInteraction(ctx, ic)
	})()
	if a.messageCommands {
		a.logger.InfoContext(ctx, "discord message commands on: the MESSAGE_CONTENT intent must be enabled in the developer portal, or the gateway closes with 4014")
		defer a.session.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
			a.HandleMessage(ctx, m)
		})()
	}
	if a.leaser == nil {
		return a.holdGateway(ctx, nil)
	}
	name := fmt.Sprintf("discord-gateway-%d", a.shardID)
	a.onConnection(ConnStandby, nil, 0)
	for {
		ok, err := a.leaser.TryLease(ctx, name, a.holder, a.leaseTTL)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			a.logger.WarnContext(ctx, "discord gateway lease failed", "lease", name, "err", err)
		case ok:
			a.logger.InfoContext(ctx, "discord gateway lease taken", "lease", name, "holder", a.holder)
			lost := make(chan struct{})
			renewCtx, stop := context.WithCancel(ctx)
			go a.renew(renewCtx, name, lost)
			err := a.holdGateway(ctx, lost)
			stop()
			a.onConnection(ConnStandby, nil, 0)
			// Release on a fresh context: ctx may be done already.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if rerr := a.leaser.ReleaseLease(rctx, name, a.holder); rerr != nil {
				a.logger.WarnContext(ctx, "discord gateway lease release failed", "lease", name, "err", rerr)
			}
			cancel()
			if err != nil || ctx.Err() != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.leaseTTL / 3):
		}
	}
}

// renew keeps the lease (lease.Keep); it closes lost when the lease is
// gone. A failed renewal is retried: the lease lasts leaseTTL, and a
// database blip should not drop the gateway.
func (a *Adapter) renew(ctx context.Context, name string, lost chan<- struct{}) {
	err := lease.Keep(ctx, a.leaseTTL/3, func(ctx context.Context) (bool, error) {
		return a.leaser.TryLease(ctx, name, a.holder, a.leaseTTL)
	}, func(err error) bool {
		a.logger.WarnContext(ctx, "discord gateway lease renewal failed", "lease", name, "err", err)
		return true
	})
	if err != nil {
		a.logger.WarnContext(ctx, "discord gateway lease lost", "lease", name)
		close(lost)
	}
}

// holdGateway opens the session and keeps it until ctx ends or lost is
// closed.
func (a *Adapter) holdGateway(ctx context.Context, lost <-chan struct{}) error {
	backoff := time.Second
	for {
		a.onConnection(ConnConnecting, nil, 0)
		err := a.session.Open()
		if err == nil {
			break
		}
		a.apiError("gateway_open")
		a.logger.WarnContext(ctx, "discord gateway open failed", "err", scrub(err), "retry_in_s", backoff.Seconds())
		a.onConnection(ConnRetrying, scrub(err), backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-lost:
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
	a.logger.InfoContext(ctx, "discord gateway connected", "shard", a.session.ShardID, "shards", a.session.ShardCount)
	a.onConnection(ConnConnected, nil, 0)
	select {
	case <-ctx.Done():
	case <-lost:
	}
	if err := a.session.Close(); err != nil {
		return fmt.Errorf("discord gateway close: %w", scrub(err))
	}
	return nil
}

// Gateway connection states reported to Params.OnConnection.
const (
	ConnConnecting = "connecting"
	ConnConnected  = "connected"
	// ConnRetrying: opening failed; another attempt follows after retryIn.
	ConnRetrying = "retrying"
	// ConnStandby: another replica holds the gateway lease.
	ConnStandby = "standby"
	ConnClosed  = "closed"
)

// onConnection reports a state change to Params.OnConnection, if set.
func (a *Adapter) onConnection(state string, err error, retryIn time.Duration) {
	if a.connState != nil {
		a.connState(state, err, retryIn)
	}
}

// HandleReady records our own user id, so that our messages are ignored.
func (a *Adapter) HandleReady(r *discordgo.Ready) {
	if r != nil && r.User != nil && r.User.ID != "" {
		a.botID.Store(r.User.ID)
	}
}

// HandleInteraction answers an interaction received over the gateway,
// through the REST interaction callback. It returns when the exchange
// (including a deferred answer) is over.
func (a *Adapter) HandleInteraction(ctx context.Context, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	i := ic.Interaction
	ctx, cancel := context.WithTimeout(ctx, tokenLifetime)
	defer cancel()
	a.work.Add(1)
	defer a.work.Done()
	a.interact(ctx, i, func(resp *discordgo.InteractionResponse) error {
		return a.rest.InteractionRespond(i, resp, discordgo.WithContext(ctx))
	})
}
