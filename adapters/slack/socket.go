package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// acker acknowledges a Socket Mode envelope; *socketmode.Client satisfies it.
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// NewSocketClient returns a Socket Mode client for api, logging through
// logger. api must carry the app-level (xapp-) token.
func NewSocketClient(api *slackgo.Client, logger *slog.Logger) *socketmode.Client {
	return socketmode.New(api, socketmode.OptionLog(slogOutput{logger.With("component", "adapters/slack/socketmode")}))
}

// slogOutput adapts slog to socketmode's Output-style logger.
type slogOutput struct{ l *slog.Logger }

func (s slogOutput) Output(_ int, msg string) error {
	s.l.Info("socket mode", "msg", msg)
	return nil
}

// RunSocketMode serves Slack over Socket Mode, an alternative to the HTTP
// endpoints for workspaces without a public URL: the same handlers answer,
// each envelope is acknowledged first (or with its answer) and acks stay
// under 20 KB. Connection attempts, failures (with the next retry) and
// reconnections are logged and reported to Params.OnConnection. It
// returns when ctx ends or the connection fails for good.
func (a *Adapter) RunSocketMode(ctx context.Context, client *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				a.onConnection(ConnClosed, nil, 0)
				return nil
			}
			a.onConnection(ConnFailed, scrubURL(err), 0)
			return err
		case ev := <-client.Events:
			if a.connectionEvent(ctx, ev) {
				continue
			}
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				a.socketEvent(ctx, client, ev)
			}()
		}
	}
}

// socketEvent answers one Socket Mode event.
func (a *Adapter) socketEvent(ctx context.Context, ack acker, ev socketmode.Event) {
	start := a.now()
	switch ev.Type {
	case socketmode.EventTypeSlashCommand:
		sc, ok := ev.Data.(slackgo.SlashCommand)
		if !ok || ev.Request == nil {
			return
		}
		msg := a.slash(ctx, sc, start)
		if msg == nil {
			a.ack(ctx, ack, ev.Request, nil)
			return
		}
		if !a.ack(ctx, ack, ev.Request, msg) {
			// Too large for an ack: send it through response_url instead.
			a.ack(ctx, ack, ev.Request, nil)
			a.postMessage(ctx, sc.ResponseURL, msg)
		}
	case socketmode.EventTypeInteractive:
		cb, ok := ev.Data.(slackgo.InteractionCallback)
		if !ok || ev.Request == nil {
			return
		}
		if cb.Type == slackgo.InteractionTypeBlockActions {
			a.ack(ctx, ack, ev.Request, nil) // before any work
		}
		answer := a.interaction(ctx, &cb, start)
		if cb.Type == slackgo.InteractionTypeBlockActions {
			return
		}
		if answer == nil || isNilPointer(answer) {
			a.ack(ctx, ack, ev.Request, nil)
		} else if !a.ack(ctx, ack, ev.Request, answer) {
			a.ack(ctx, ack, ev.Request, nil)
		}
	case socketmode.EventTypeEventsAPI:
		if ev.Request == nil {
			return
		}
		a.ack(ctx, ack, ev.Request, nil)
		e, ok := ev.Data.(slackevents.EventsAPIEvent)
		if !ok || e.Type != slackevents.CallbackEvent {
			return
		}
		outer, _ := e.Data.(*slackevents.EventsAPICallbackEvent)
		a.callbackEvent(ctx, outer, ev.Request.RetryAttempt)
	}
}

// ack acknowledges req with payload (nil for none). It reports false,
// without acknowledging, when payload would reach the 20 KB limit.
func (a *Adapter) ack(ctx context.Context, ack acker, req *socketmode.Request, payload any) bool {
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil || len(b)+len(req.EnvelopeID)+40 > maxSocketAck {
			return false
		}
		if err := ack.Ack(*req, payload); err != nil {
			a.logger.WarnContext(ctx, "socket mode ack failed", "err", err)
		}
		return true
	}
	if err := ack.Ack(*req); err != nil {
		a.logger.WarnContext(ctx, "socket mode ack failed", "err", err)
	}
	return true
}

// postMessage sends an answer to a response_url, for answers too large to
// ride on a Socket Mode ack.
func (a *Adapter) postMessage(ctx context.Context, responseURL string, msg *slackgo.WebhookMessage) {
	if !a.allowedResponseURL(responseURL) {
		return
	}
	if err := slackgo.PostWebhookCustomHTTPContext(ctx, responseURL, a.http, msg); err != nil {
		a.observe("response_url", err)
		a.logger.ErrorContext(ctx, "response_url post failed", "err", err)
	}
}
