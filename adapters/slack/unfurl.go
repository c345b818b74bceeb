package slack

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Previewer answers links to portal entity pages pasted in chat;
// *commands.Router satisfies it.
type Previewer interface {
	Preview(ctx context.Context, req *commands.Request, link string) (commands.Reply, bool)
}

// Unfurler is Slack's chat.unfurl; *slackgo.Client satisfies it. The
// adapter unfurls only when Params.API implements it.
type Unfurler interface {
	UnfurlMessageContext(ctx context.Context, channelID, timestamp string, unfurls map[string]slackgo.Attachment, options ...slackgo.MsgOption) (string, string, string, error)
	UnfurlMessageByIDContext(ctx context.Context, unfurlID, source string, unfurls map[string]slackgo.Attachment, options ...slackgo.MsgOption) (string, string, string, error)
}

// maxUnfurls bounds the links previewed per message; a link_shared event
// lists every matching link of the message.
const maxUnfurls = 5

// linkShared is the link_shared event. Slack adds unfurl_id and source
// when the links are still in the message composer (source "composer"),
// in which case message_ts is not a timestamp and chat.unfurl takes the
// pair instead of channel and ts.
type linkShared struct {
	slackevents.LinkSharedEvent
	UnfurlID string `json:"unfurl_id"`
	Source   string `json:"source"`
}

// unfurl answers a link_shared event with chat.unfurl: one attachment of
// blocks per portal entity link, owner, on-call and docs.
func (a *Adapter) unfurl(ctx context.Context, raw json.RawMessage) {
	if a.previews == nil || a.unfurler == nil {
		return
	}
	var ev linkShared
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Channel == "" {
		return
	}
	if a.botUser != "" && ev.User == a.botUser {
		return // our own answers link the portal; they need no preview
	}
	req := &commands.Request{Platform: commands.PlatformSlack, UserID: ev.User, ChannelID: ev.Channel}
	unfurls := map[string]slackgo.Attachment{}
	for _, l := range ev.Links {
		if len(unfurls) == maxUnfurls {
			break
		}
		if _, dup := unfurls[l.URL]; dup {
			continue
		}
		rep, ok := a.previews.Preview(ctx, req, l.URL)
		if !ok {
			continue
		}
		unfurls[l.URL] = slackgo.Attachment{Blocks: slackgo.Blocks{BlockSet: unfurlBlocks(rep)}}
	}
	if len(unfurls) == 0 {
		return
	}
	var err error
	if ev.UnfurlID != "" && ev.Source != "" {
		_, _, _, err = a.unfurler.UnfurlMessageByIDContext(ctx, ev.UnfurlID, ev.Source, unfurls)
	} else {
		_, _, _, err = a.unfurler.UnfurlMessageContext(ctx, ev.Channel, ev.MessageTimeStamp, unfurls)
	}
	if err != nil {
		a.observe("chat.unfurl", err)
		a.logger.WarnContext(ctx, "unfurl failed", "channel", ev.Channel, "links", len(unfurls), "err", err)
	}
}

// unfurlBlocks renders a preview: the title in bold rather than as a
// header (an unfurl sits under someone else's message), the text, fields
// and links; no buttons.
func unfurlBlocks(r commands.Reply) []slackgo.Block {
	var rd renderer
	md := escape(r.Text)
	if r.Title != "" {
		md = strings.TrimSuffix("*"+escape(r.Title)+"*\n"+md, "\n")
	}
	rd.text(md)
	rd.fields(r.Fields)
	rd.links(r.Links)
	return rd.blocks
}
