package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Socket Mode connection states reported to Params.OnConnection.
const (
	ConnConnecting = "connecting"
	ConnConnected  = "connected"
	// ConnRetrying: the last attempt failed; another follows after retryIn.
	ConnRetrying = "retrying"
	// ConnFailed: Slack refused the app-level token; no retry follows.
	ConnFailed = "failed"
	ConnClosed = "closed"
)

// connectionEvent logs a Socket Mode connection event with its reason
// and next retry, and reports the state; it returns false for events
// that are not about the connection.
func (a *Adapter) connectionEvent(ctx context.Context, ev socketmode.Event) bool {
	switch ev.Type {
	case socketmode.EventTypeConnecting:
		if ce, ok := ev.Data.(*slackgo.ConnectingEvent); ok && ce.Attempt > 1 {
			a.logger.DebugContext(ctx, "slack socket mode connecting", "attempt", ce.Attempt)
		}
		a.onConnection(ConnConnecting, nil, 0)
	case socketmode.EventTypeConnectionError:
		ce, _ := ev.Data.(*slackgo.ConnectionErrorEvent)
		var err error = errors.New("unknown error")
		var attempt int
		var retryIn time.Duration
		if ce != nil {
			if ce.ErrorObj != nil {
				err = scrubURL(ce.ErrorObj)
			}
			attempt, retryIn = ce.Attempt, ce.Backoff
		}
		a.logger.WarnContext(ctx, "slack socket mode connection failed", "err", err, "attempt", attempt, "retry_in_s", retryIn.Seconds())
		a.onConnection(ConnRetrying, err, retryIn)
	case socketmode.EventTypeInvalidAuth:
		err := errors.New("slack refused the app-level token (SLACK_APP_TOKEN)")
		a.logger.ErrorContext(ctx, "slack socket mode connection refused", "err", err)
		a.onConnection(ConnFailed, err, 0)
	case socketmode.EventTypeConnected:
		a.logger.InfoContext(ctx, "slack socket mode connected")
		a.onConnection(ConnConnected, nil, 0)
	case socketmode.EventTypeIncomingError:
		var err error = errors.New("connection lost")
		if ie, ok := ev.Data.(*slackgo.IncomingEventError); ok && ie.ErrorObj != nil {
			err = scrubURL(ie.ErrorObj)
		}
		a.logger.WarnContext(ctx, "slack socket mode connection lost; reconnecting", "err", err)
		a.onConnection(ConnConnecting, err, 0)
	case socketmode.EventTypeDisconnect:
		// Slack asks for a new connection now and then (refresh_requested).
		a.logger.InfoContext(ctx, "slack socket mode reconnecting at slack's request")
		a.onConnection(ConnConnecting, nil, 0)
	default:
		return false
	}
	return true
}

// onConnection reports a state change to Params.OnConnection, if set.
func (a *Adapter) onConnection(state string, err error, retryIn time.Duration) {
	if a.connState != nil {
		a.connState(state, err, retryIn)
	}
}

// scrubURL keeps URLs out of connection errors: the Socket Mode URL
// carries a ticket that grants the connection.
func scrubURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := "slack"
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return fmt.Errorf("%s %s: %w", ue.Op, host, ue.Err)
	}
	return err
}
