package bot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigNamesTheBadKey(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tt := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", "portal_url: https://portal.example.com\nportal_ulr: x\n", []string{"line 2", "portal_ulr", "unknown key"}},
		{"unknown nested key", "sync:\n  schedule: \"*/5 * * * *\"\n  every: 5m\n", []string{"sync.every", "unknown key"}},
		{"unknown key in a list item", "sources:\n  - repo: ./catalog\n    branch_name: main\n", []string{"sources[].branch_name", "unknown key"}},
		{"bad sync cron", "sync:\n  schedule: \"every five minutes\"\n", []string{"sync.schedule", "cron spec"}},
		{"bad source cron", "sources:\n  - repo: ./catalog\n    schedule: \"61 * * * *\"\n", []string{"sources[0].schedule"}},
		{"missing source repo", "sources:\n  - name: x\n", []string{"sources[0].repo", "required"}},
		{"repo and backstage", "sources:\n  - repo: ./c\n    backstage: https://portal.example.com\n", []string{"sources[0]", "not both"}},
		{"backstage not a URL", "sources:\n  - backstage: portal.example.com\n", []string{"sources[0].backstage", "http(s)"}},
		{"bad platform", "reports:\n  targets:\n    - platform: teams\n      channel: C1\n      schedule: \"0 9 * * 1\"\n", []string{"reports.targets[0].platform", "slack or discord", `"teams"`}},
		{"bad report cron", "reports:\n  targets:\n    - platform: slack\n      channel: C1\n      schedule: \"0 9 * *\"\n", []string{"reports.targets[0].schedule", "cron spec"}},
		{"bad timezone", "reports:\n  targets:\n    - platform: slack\n      channel: C1\n      schedule: \"0 9 * * 1\"\n      timezone: Mars/Olympus_Mons\n", []string{"reports.targets[0].timezone", "Mars/Olympus_Mons"}},
		{"bad digest timezone", "reports:\n  team_digests:\n    platform: slack\n    schedule: \"0 9 * * 1\"\n    timezone: Nowhere/City\n", []string{"reports.team_digests.timezone"}},
		{"bad digest platform", "reports:\n  team_digests:\n    platform: irc\n    schedule: \"0 9 * * 1\"\n", []string{"reports.team_digests.platform"}},
		{"bad db", "db: mysql://root:hunter2@db/portal\n", []string{"db:", "postgres://", "sqlite:"}},
		{"bad portal url", "portal_url: portal.example.com\n", []string{"portal_url", "http(s) URL"}},
		{"bad discord gateway", "discord:\n  gateway: maybe\n", []string{"discord.gateway", "on or off"}},
		{"bad catalog model", "catalog_model: beta\n", []string{"catalog_model", "default or alpha", `"beta"`}},
		{"wrong type", "sync:\n  timeout: soon\n", []string{"line 2", "soon"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tt.yaml), noEnv)
			if err == nil {
				t.Fatalf("LoadConfig(%q) = nil error, want one naming %v", tt.yaml, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadConfig(%q) error = %q, want it to contain %q", tt.yaml, err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("LoadConfig error %q shows the database password", err)
			}
		})
	}
}

func TestLoadConfigRejectsSecrets(t *testing.T) {
	for _, tt := range []struct{ yaml, key, env string }{
		{"slack_bot_token: xoxb-123-456-abcdef\n", "slack_bot_token", "SLACK_BOT_TOKEN"},
		{"slack:\n  signing_secret: 8f742231b10e8888abcd99yyyzzz85a5\n", "slack.signing_secret", "SLACK_SIGNING_SECRET"},
		{"discord:\n  bot_token: MTA.secret.value\n", "discord.bot_token", "DISCORD_BOT_TOKEN"},
		{"sources:\n  - repo: https://github.com/acme/catalog\n    token: ghp_abcdef\n", "sources[].token", "environment"},
		{"db_password: hunter2\n", "db_password", "environment"},
	} {
		_, err := LoadConfig(writeConfig(t, tt.yaml), func(string) string { return "" })
		if err == nil {
			t.Errorf("LoadConfig(%q) = nil error, want the secret rejected", tt.yaml)
			continue
		}
		msg := err.Error()
		for _, w := range []string{tt.key, "secrets are not read from the config file", tt.env} {
			if !strings.Contains(msg, w) {
				t.Errorf("LoadConfig(%q) error = %q, want it to contain %q", tt.yaml, msg, w)
			}
		}
		for _, secret := range []string{"xoxb-123", "8f742231", "MTA.secret", "ghp_abcdef", "hunter2"} {
			if strings.Contains(msg, secret) {
				t.Errorf("LoadConfig error %q echoes the secret value", msg)
			}
		}
	}
}

func TestLoadConfigAcceptsAGoodFile(t *testing.T) {
	yaml := `db: sqlite:portal.db
portal_url: https://portal.example.com
http_addr: 127.0.0.1:0
sync:
  schedule: "@every 2s"
sources:
  - name: acme
    repo: ./catalog
    schedule: "*/10 * * * *"
reports:
  targets:
    - name: weekly
      platform: slack
      channel: C0REPORTS
      schedule: "0 9 * * 1"
      timezone: Europe/Paris
  team_digests:
    platform: discord
    schedule: "@weekly"
discord:
  gateway: off
`
	env := map[string]string{"PORTALBOT_PORTAL_URL": "https://backstage.acme.io"}
	cfg, err := LoadConfig(writeConfig(t, yaml), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("LoadConfig(good file) error: %v", err)
	}
	if cfg.PortalURL != "https://backstage.acme.io" || cfg.Sync.Schedule != "@every 2s" || len(cfg.Sources) != 1 || cfg.Reports.Targets[0].Timezone != "Europe/Paris" {
		t.Errorf("LoadConfig(good file) = %+v, want the file overlaid with PORTALBOT_PORTAL_URL", cfg)
	}
	if cfg.Sync.Timeout == 0 {
		t.Errorf("LoadConfig kept no default sync timeout")
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "portalbot.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
