package slack

import (
	"context"
	"encoding/json"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// HomeSource answers a person's App Home tab; *commands.Router satisfies
// it.
type HomeSource interface {
	Home(ctx context.Context, req *commands.Request) commands.Reply
}

// ViewPublisher is Slack's views.publish; *slackgo.Client satisfies it.
// The adapter publishes Home tabs only when Params.API implements it.
type ViewPublisher interface {
	PublishViewContext(ctx context.Context, req slackgo.PublishViewContextRequest) (*slackgo.ViewResponse, error)
}

// appHomeOpened answers an app_home_opened event for the Home tab (the
// Messages tab sends one too) by publishing the person's home view.
func (a *Adapter) appHomeOpened(ctx context.Context, raw json.RawMessage) {
	if a.home == nil || a.publisher == nil {
		return
	}
	var ev slackevents.AppHomeOpenedEvent
	if err := json.Unmarshal(raw, &ev); err != nil || ev.User == "" || ev.Tab != "home" {
		return
	}
	req := &commands.Request{Platform: commands.PlatformSlack, UserID: ev.User, ChannelID: ev.Channel}
	a.fillEmail(ctx, req)
	view := homeView(a.home.Home(ctx, req))
	if _, err := a.publisher.PublishViewContext(ctx, slackgo.PublishViewContextRequest{UserID: ev.User, View: view}); err != nil {
		a.observe("views.publish", err)
		a.logger.WarnContext(ctx, "home tab publish failed", "err", err)
	}
}

// homeView renders r as a Home tab, within a view's 100 blocks.
func homeView(r commands.Reply) slackgo.HomeTabViewRequest {
	bs := contentBlocks(r)
	if len(bs) > maxModalBlocks {
		bs = append(bs[:maxModalBlocks-1], moreBlock(r.MoreURL, len(bs)-maxModalBlocks+1))
	}
	return slackgo.HomeTabViewRequest{Type: slackgo.VTHomeTab, Blocks: slackgo.Blocks{BlockSet: bs}}
}
