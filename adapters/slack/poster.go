package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// chatPoster is the Web API the Poster needs; *slackgo.Client satisfies
// it. UploadFileContext is files.uploadV2: files.getUploadURLExternal, the
// upload, then files.completeUploadExternal.
type chatPoster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slackgo.MsgOption) (string, string, error)
	UploadFileContext(ctx context.Context, params slackgo.UploadFileParameters) (*slackgo.FileSummary, error)
}

// maxPostAttempts bounds the retries of one message after 429s and
// message_limit_exceeded.
const maxPostAttempts = 5

// Poster posts replies with chat.postMessage. It implements
// commands.Poster and is safe for concurrent use: posts to one channel are
// queued and paced about one per second (slack-go does not pace per
// channel, PLATFORM.md "Rate limits"), posts to different channels run in
// parallel, and a 429 is retried after its Retry-After.
type Poster struct {
	api    chatPoster
	logger *slog.Logger
	// interval is the pause between two posts to one channel.
	interval time.Duration
	// observe is told about failed calls; never nil.
	observe func(call string, err error)

	mu       sync.Mutex
	channels map[string]*channelQueue // guarded by mu; one per channel ever posted to
}

// channelQueue serializes the posts to one channel.
type channelQueue struct {
	turn chan struct{} // holds a token while a post is under way
	next time.Time     // earliest time of the next post; guarded by turn
}

// NewPoster returns a Poster calling api.
func NewPoster(api chatPoster, logger *slog.Logger) *Poster {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poster{api: api, logger: logger, interval: channelInterval, observe: func(string, error) {},
		channels: map[string]*channelQueue{}}
}

var _ commands.Poster = (*Poster)(nil)

// Post posts r to channelID, in the thread threadID when it is not empty,
// and returns the timestamp of the (first) posted message. A reply longer
// than one message allows (50 blocks) is split, never cut: the following
// parts go in the thread of the first. Post blocks while earlier posts to
// the same channel are paced or rate limited, until ctx ends.
func (p *Poster) Post(ctx context.Context, channelID, threadID string, r commands.Reply) (string, error) {
	parts := splitBlocks(r)
	text := fallbackText(r)
	first, thread := "", threadID
	for i, blocks := range parts {
		ts, err := p.send(ctx, channelID, thread, text, blocks)
		if err != nil {
			return first, fmt.Errorf("slack post to %s (part %d of %d): %w", channelID, i+1, len(parts), err)
		}
		if i == 0 {
			first = ts
			if thread == "" {
				thread = ts
			}
			if len(parts) > 1 {
				text = "(continued)"
			}
		}
	}
	for _, f := range r.Files {
		if err := p.upload(ctx, channelID, thread, f); err != nil {
			return first, fmt.Errorf("slack upload %s to %s: %w", f.Name, channelID, err)
		}
	}
	return first, nil
}

// upload shares f in the thread, paced with the channel's messages: the
// three calls of files.uploadV2 count as one post.
func (p *Poster) upload(ctx context.Context, channel, thread string, f commands.File) error {
	if len(f.Data) == 0 {
		return nil // files.getUploadURLExternal refuses an empty file
	}
	q := p.queue(channel)
	select {
	case q.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-q.turn }()
	title := f.Title
	if title == "" {
		title = f.Name
	}
	for attempt := 1; ; attempt++ {
		if err := sleep(ctx, time.Until(q.next)); err != nil {
			return err
		}
		_, err := p.api.UploadFileContext(ctx, slackgo.UploadFileParameters{
			Reader: bytes.NewReader(f.Data), FileSize: len(f.Data), Filename: f.Name, Title: title,
			Channel: channel, ThreadTimestamp: thread,
		})
		q.next = time.Now().Add(p.interval)
		if err != nil {
			p.observe("files.uploadV2", err)
		}
		var rl *slackgo.RateLimitedError
		if err == nil || attempt == maxPostAttempts || !errors.As(err, &rl) {
			return err
		}
		q.next = time.Now().Add(max(rl.RetryAfter, p.interval))
		p.logger.WarnContext(ctx, "slack rate limited; retrying upload", "channel", channel, "attempt", attempt, "retry_at", q.next)
	}
}

func (p *Poster) queue(channel string) *channelQueue {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.channels[channel]
	if q == nil {
		q = &channelQueue{turn: make(chan struct{}, 1)}
		p.channels[channel] = q
	}
	return q
}

func (p *Poster) send(ctx context.Context, channel, thread, text string, blocks []slackgo.Block) (string, error) {
	q := p.queue(channel)
	select {
	case q.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-q.turn }()
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...)}
	if thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(thread))
	}
	for attempt := 1; ; attempt++ {
		if err := sleep(ctx, time.Until(q.next)); err != nil {
			return "", err
		}
		_, ts, err := p.api.PostMessageContext(ctx, channel, opts...)
		q.next = time.Now().Add(p.interval)
		if err != nil {
			p.observe("chat.postMessage", err)
		}
		if err == nil || attempt == maxPostAttempts {
			return ts, err
		}
		var rl *slackgo.RateLimitedError
		var se slackgo.SlackErrorResponse
		switch {
		case errors.As(err, &rl):
			q.next = time.Now().Add(max(rl.RetryAfter, p.interval))
		case errors.As(err, &se) && se.Err == "message_limit_exceeded":
			// Sent without Retry-After (PLATFORM.md): back off.
			q.next = time.Now().Add(p.interval << attempt)
		default:
			return "", err
		}
		p.logger.WarnContext(ctx, "slack rate limited; retrying", "channel", channel, "attempt", attempt, "retry_at", q.next)
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
