package slack

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestManifestMatchesRoutes checks that manifest.yaml points Slack at the
// routes Register serves and asks for the scopes and events we need.
func TestManifestMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			UnfurlDomains []string `yaml:"unfurl_domains"`
			SlashCommands []struct {
				Command string `yaml:"command"`
				URL     string `yaml:"url"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				RequestURL     string `yaml:"request_url"`
				OptionsLoadURL string `yaml:"options_load_url"`
			} `yaml:"interactivity"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.yaml: %v", err)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/portal" {
		t.Fatalf("slash commands = %+v, want /portal", m.Features.SlashCommands)
	}
	e := newTestEnv(t, nil)
	for _, u := range []string{m.Features.SlashCommands[0].URL, m.Settings.Events.RequestURL,
		m.Settings.Interactivity.RequestURL, m.Settings.Interactivity.OptionsLoadURL} {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" {
			t.Errorf("manifest URL %q: want https", u)
			continue
		}
		rec := httptest.NewRecorder()
		e.srv.Config.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p.Path, nil))
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("unsigned POST %s = %d, want 401 (a served route)", p.Path, rec.Code)
		}
	}
	for _, s := range []string{"commands", "chat:write", "app_mentions:read", "im:history", "users:read", "users:read.email", "links:read", "links:write"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, s) {
			t.Errorf("manifest lacks bot scope %s", s)
		}
	}
	if len(m.Features.UnfurlDomains) == 0 {
		t.Errorf("manifest has no unfurl_domains; link_shared events need the portal's")
	}
	for _, ev := range []string{"app_mention", "message.im", "link_shared", "app_home_opened"} {
		if !slices.Contains(m.Settings.Events.BotEvents, ev) {
			t.Errorf("manifest lacks bot event %s", ev)
		}
	}
}
