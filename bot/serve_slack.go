package bot

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
	slackgo "github.com/slack-go/slack"
)

// slackParts builds serve's slack parts and registers their routes on a.Mux.
// Slack is off when SLACK_BOT_TOKEN is empty. SLACK_SIGNING_SECRET enables
// the HTTP endpoints; SLACK_APP_TOKEN enables Socket Mode (unless
// slack.socket_mode is false); at least one of them is needed.
// PORTALBOT_SLACK_API_URL points the Web API at another base URL (tests).
func slackParts(ctx context.Context, a *App) ([]Part, error) {
	botToken := a.Env.getenv("SLACK_BOT_TOKEN")
	secret := a.Env.getenv("SLACK_SIGNING_SECRET")
	appToken := a.Env.getenv("SLACK_APP_TOKEN")
	apiURL := a.Env.getenv("PORTALBOT_SLACK_API_URL")
	if botToken == "" {
		if secret != "" || appToken != "" {
			return nil, errors.New("slack: SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is empty")
		}
		return nil, nil
	}
	socket := appToken != "" && (a.Config.Slack.SocketMode == nil || *a.Config.Slack.SocketMode)
	if secret == "" && !socket {
		return nil, errors.New("slack: set SLACK_SIGNING_SECRET (HTTP endpoints) or SLACK_APP_TOKEN (Socket Mode)")
	}
	logger := a.Logger.With("component", "adapters/slack")

	var opts []slackgo.Option
	var hookPrefixes []string // nil: only https://hooks.slack.com/
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, errors.New("slack: PORTALBOT_SLACK_API_URL: want an absolute URL such as https://slack.com/api/")
		}
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slackgo.OptionAPIURL(apiURL))
		// A fake Slack serves response_url hooks too.
		hookPrefixes = []string{"https://hooks.slack.com/", u.Scheme + "://" + u.Host + "/"}
	}
	if appToken != "" {
		opts = append(opts, slackgo.OptionAppLevelToken(appToken))
	}
	api := slackgo.New(botToken, opts...)

	// The bot's own user id lets the adapter ignore its own messages;
	// bot_id already covers them, so a failure here is not fatal.
	botUser := ""
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if at, err := api.AuthTestContext(actx); err != nil {
		logger.WarnContext(ctx, "slack auth.test failed; continuing without the bot user id", "err", err)
	} else {
		botUser = at.UserID
	}
	cancel()

	var dedupe slackadapter.Deduper
	if a.Store != nil {
		dedupe = a.Store // shared by every replica on the same database
	}
	var observe func(call string, err error)
	if m := a.Metrics; m != nil {
		observe = func(call string, err error) {
			var rl *slackgo.RateLimitedError
			if errors.As(err, &rl) {
				m.RateLimited.WithLabelValues("slack").Inc()
			}
			m.PlatformErrors.WithLabelValues("slack", call).Inc()
		}
	}
	sp := slackadapter.Params{
		Engine:              a.Router,
		Previews:            a.Router,
		Home:                a.Router,
		API:                 api,
		SigningSecret:       secret,
		BotUserID:           botUser,
		Dedupe:              dedupe,
		ResponseURLPrefixes: hookPrefixes,
		Logger:              a.Logger,
		ObserveError:        observe,
	}
	if a.Connections != nil && socket {
		sp.OnConnection = a.Connections.Reporter("slack_socket_mode")
	}
	ad, err := slackadapter.New(sp)
	if err != nil {
		return nil, err
	}
	if secret != "" {
		ad.Register(a.Mux)
	}
	a.Posters["slack"] = ad.Poster()
	parts := []Part{func(ctx context.Context) error {
		<-ctx.Done()
		ad.Wait() // let late answers and event replies finish
		return nil
	}}
	if socket {
		parts = append(parts, func(ctx context.Context) error {
			return ad.RunSocketMode(ctx, slackadapter.NewSocketClient(api, a.Logger))
		})
	}
	logger.InfoContext(ctx, "slack enabled", "http", secret != "", "socket_mode", socket)
	return parts, nil
}
