package bot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/portalbot/portalbot/catalog"
)

// Config is portalbot's configuration: the YAML file (--config or
// PORTALBOT_CONFIG) overlaid with environment variables. Secrets never come
// from the YAML file; they are read from the environment or from files
// named here.
type Config struct {
	// DB is the database URL: postgres://... or sqlite:PATH. Empty means
	// sqlite:portalbot.db in the working directory. Env PORTALBOT_DB.
	DB string `yaml:"db"`
	// PortalURL is the developer portal's base URL, used for every link.
	// Empty means http://localhost:3000. Env PORTALBOT_PORTAL_URL.
	PortalURL string `yaml:"portal_url"`
	// HTTPAddr is the serve address. Empty means ":8080". Env PORTALBOT_HTTP_ADDR.
	HTTPAddr string `yaml:"http_addr"`
	// ReadyzDetails adds each source's name, commit and message and each
	// connection's error to /readyz. Off by default: the probe endpoint is
	// often reachable by more people than the catalog is. Env
	// PORTALBOT_READYZ_DETAILS=true.
	ReadyzDetails bool `yaml:"readyz_details"`
	// CatalogModel is the Backstage catalog model entities are checked
	// against: "default" (or empty), Backstage's default configuration,
	// which rejects AiResource entities and APIs without spec.definition;
	// or "alpha", which accepts them as Backstage does with the alpha
	// catalog model (catalogModelExtensionPoint) installed.
	CatalogModel string `yaml:"catalog_model"`
	// StoreTimeout bounds each database call a chat command waits for;
	// past it the command answers from memory or says the catalog is
	// temporarily unavailable. Zero means view.DefaultTimeout (1.5 s).
	StoreTimeout time.Duration `yaml:"store_timeout"`

	Sync         SyncConfig         `yaml:"sync"`
	Sources      []SourceConfig     `yaml:"sources"`
	Reports      ReportsConfig      `yaml:"reports"`
	Templates    TemplatesConfig    `yaml:"templates"`
	Placeholders PlaceholdersConfig `yaml:"placeholders"`
	Slack        SlackConfig        `yaml:"slack"`
	Discord      DiscordConfig      `yaml:"discord"`
}

// SyncConfig configures scheduled syncs.
type SyncConfig struct {
	// Schedule is the default cron spec for every source; empty means
	// every 5 minutes ("*/5 * * * *").
	Schedule string `yaml:"schedule"`
	// CacheDir keeps Git clones between syncs; empty means
	// $XDG_CACHE_HOME/portalbot (or ~/.cache/portalbot).
	CacheDir string `yaml:"cache_dir"`
	// Timeout bounds one sync of one source; zero means 10 minutes.
	Timeout time.Duration `yaml:"timeout"`
	// Workers is how many sources one replica syncs at once; zero means
	// 4 on Postgres and 1 on SQLite, whose single writer a sync holds from
	// its start (a second one would wait out the busy timeout).
	Workers int `yaml:"workers"`
}

// workers is the number of sync workers for a store of dialect.
func (c SyncConfig) workers(dialect string) int {
	switch {
	case c.Workers > 0:
		return c.Workers
	case dialect == "sqlite":
		return 1
	}
	return 4
}

// SourceConfig is one source of entities: a Git repository holding
// catalog descriptors (Repo), or a Backstage backend whose catalog API is
// mirrored (Backstage). Exactly one of the two is set.
type SourceConfig struct {
	// Name identifies the source; empty means derived from Repo, or from
	// Backstage's host and path.
	Name string `yaml:"name"`
	// Repo is a local path, file://, https:// or ssh:// (or scp-style) URL.
	Repo string `yaml:"repo"`
	// Backstage is a Backstage backend's base URL (https://backstage.example.com):
	// its catalog's entities and relations are read from /api/catalog.
	// Branch, Root and SSHKeyFile do not apply.
	Backstage string `yaml:"backstage"`
	// Branch or ref to sync; empty means the remote's default branch.
	Branch string `yaml:"branch"`
	// Root is the root descriptor path; empty means catalog-info.yaml.
	Root string `yaml:"root"`
	// Schedule overrides Sync.Schedule for this source.
	Schedule string `yaml:"schedule"`
	// TokenEnv names the environment variable holding an HTTPS token;
	// empty means PORTALBOT_GIT_TOKEN, or PORTALBOT_BACKSTAGE_TOKEN (a
	// static external-access token, sent as a Bearer token) for Backstage.
	TokenEnv string `yaml:"token_env"`
	// SSHKeyFile is a private key file for ssh:// sources; empty means
	// PORTALBOT_GIT_SSH_KEY (key text) or PORTALBOT_GIT_SSH_KEY_FILE.
	SSHKeyFile string `yaml:"ssh_key_file"`
}

// ReportsConfig configures drift reports.
type ReportsConfig struct {
	Targets []ReportTarget `yaml:"targets"`
	// TeamDigests sends each team its own findings in its own channel,
	// taken from the Group annotation portalbot.io/slack-channel or
	// portalbot.io/discord-channel (or Channels below).
	TeamDigests *TeamDigestConfig `yaml:"team_digests"`
	// CodeOwnersMapping maps a CODEOWNERS owner ("@org/team") to an entity
	// ref ("group:default/payments"). A Group's github.com/team-slug
	// annotation wins over this; the default is the Group named team-slug.
	CodeOwnersMapping map[string]string `yaml:"codeowners_mapping"`
	// Activity configures the activity-owner-mismatch rule.
	Activity ActivityConfig `yaml:"activity"`
}

// ActivityConfig configures activity-owner-mismatch, which reads the
// sources' commit history (from sync's clones in sync.cache_dir). Zero
// values mean the defaults given.
type ActivityConfig struct {
	// Disabled turns the rule off: no history is read.
	Disabled bool `yaml:"disabled"`
	// Days of history read (90).
	Days int `yaml:"days"`
	// MaxCommits read per source (10000).
	MaxCommits int `yaml:"max_commits"`
	// HalfLife of a commit's weight, a Go duration (2160h, 90 days).
	HalfLife time.Duration `yaml:"half_life"`
	// MinShare of the weighted work one other team must have done (0.6).
	MinShare float64 `yaml:"min_share"`
	// MinCommits that team must have made (5).
	MinCommits int `yaml:"min_commits"`
	// Aliases map commit author emails to User refs, for addresses that
	// are not a User's spec.profile.email.
	Aliases map[string]string `yaml:"aliases"`
}

// ReportTarget is one scheduled report into one channel.
type ReportTarget struct {
	Name     string   `yaml:"name"`
	Platform string   `yaml:"platform"` // slack | discord
	Channel  string   `yaml:"channel"`
	Schedule string   `yaml:"schedule"` // cron spec
	Timezone string   `yaml:"timezone"` // IANA name; empty means UTC
	Teams    []string `yaml:"teams"`
	Systems  []string `yaml:"systems"`
	Domains  []string `yaml:"domains"`
	Rules    []string `yaml:"rules"`
	// Empty is "skip" (default) or "oneline" for a report with no findings.
	Empty string `yaml:"empty"`
	// Chart attaches a PNG of findings per rule over the last 12 weeks
	// (from the recorded reports); false attaches none.
	Chart bool `yaml:"chart"`
}

// TeamDigestConfig sends per-team digests.
type TeamDigestConfig struct {
	Platform string            `yaml:"platform"`
	Schedule string            `yaml:"schedule"`
	Timezone string            `yaml:"timezone"`
	Channels map[string]string `yaml:"channels"` // group ref -> channel
	Empty    string            `yaml:"empty"`
	// Chart attaches a trend chart, as ReportTarget.Chart.
	Chart bool `yaml:"chart"`
}

// TemplatesConfig configures template launches.
type TemplatesConfig struct {
	// Permissions are checked in order; the first rule matching the
	// template decides. No rule matching means anyone may launch.
	Permissions []TemplatePermission `yaml:"permissions"`
	// PublishBase is where the built-in runner's publish:git creates
	// repositories: a directory of bare repositories or a remote URL prefix.
	PublishBase string `yaml:"publish_base"`
}

// TemplatePermission says who may launch which templates.
type TemplatePermission struct {
	Templates []string `yaml:"templates"` // template refs or names; "*" for all
	Tags      []string `yaml:"tags"`
	Users     []string `yaml:"users"`  // chat user ids or names
	Groups    []string `yaml:"groups"` // group refs, matched through User entities' emails
}

// PlaceholdersConfig bounds $text/$json/$yaml resolution.
type PlaceholdersConfig struct {
	// AllowedHosts may be fetched for absolute URLs; none by default.
	AllowedHosts []string      `yaml:"allowed_hosts"`
	Timeout      time.Duration `yaml:"timeout"`
	MaxBytes     int64         `yaml:"max_bytes"`
	// MaxFileBytes and MaxSyncBytes bound what placeholders add to one
	// file's entities and to one sync's; zero means 10 MiB and 64 MiB.
	MaxFileBytes int64 `yaml:"max_file_bytes"`
	MaxSyncBytes int64 `yaml:"max_sync_bytes"`
}

// SlackConfig holds Slack's non-secret settings; tokens come from env.
type SlackConfig struct {
	// SocketMode uses Socket Mode when SLACK_APP_TOKEN is set; default true.
	SocketMode *bool `yaml:"socket_mode"`
	// Command is the slash command name; empty means "/portal".
	Command string `yaml:"command"`
}

// DiscordConfig holds Discord's non-secret settings; tokens come from env.
type DiscordConfig struct {
	// Gateway is "on" or "off" (default "on" when DISCORD_BOT_TOKEN is set).
	Gateway string `yaml:"gateway"`
	// MessageCommands enables "!portal ..." and mentions; needs the
	// privileged MESSAGE_CONTENT intent. Off by default.
	MessageCommands bool   `yaml:"message_commands"`
	GuildID         string `yaml:"guild_id"`
	Shards          int    `yaml:"shards"`
}

// DefaultConfig returns the configuration used when no file is given.
func DefaultConfig() Config {
	return Config{
		DB:        "sqlite:portalbot.db",
		PortalURL: "http://localhost:3000",
		HTTPAddr:  ":8080",
		Sync:      SyncConfig{Schedule: "*/5 * * * *", Timeout: 10 * time.Minute},
	}
}

// LoadConfig reads the YAML file at path (none when path is ""), overlays
// the environment read through getenv, and validates the result. Errors
// name the bad key and say what is expected.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", path, explainYAML(err))
		}
	}
	for env, dst := range map[string]*string{
		"PORTALBOT_DB":         &cfg.DB,
		"PORTALBOT_PORTAL_URL": &cfg.PortalURL,
		"PORTALBOT_HTTP_ADDR":  &cfg.HTTPAddr,
	} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
	if v := getenv("PORTALBOT_READYZ_DETAILS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("config: PORTALBOT_READYZ_DETAILS: want true or false, got %q", v)
		}
		cfg.ReadyzDetails = b
	}
	return cfg, cfg.Validate()
}

// Validate checks the configuration and names the first bad key.
func (c *Config) Validate() error {
	if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") && !strings.HasPrefix(c.DB, "sqlite:") {
		return fmt.Errorf("config: db: want postgres://... or sqlite:PATH, got %q", redactDB(c.DB))
	}
	if !strings.HasPrefix(c.PortalURL, "http://") && !strings.HasPrefix(c.PortalURL, "https://") {
		return fmt.Errorf("config: portal_url: want an http(s) URL, got %q", c.PortalURL)
	}
	parser := cronParser
	if _, err := parser.Parse(c.Sync.Schedule); err != nil {
		return fmt.Errorf("config: sync.schedule: want a cron spec such as \"*/5 * * * *\": %v", err)
	}
	names := map[string]bool{}
	for i, s := range c.Sources {
		switch {
		case s.Repo == "" && s.Backstage == "":
			return fmt.Errorf("config: sources[%d].repo: required (a path or a git URL), or backstage: a Backstage backend's URL", i)
		case s.Repo != "" && s.Backstage != "":
			return fmt.Errorf("config: sources[%d]: set repo or backstage, not both", i)
		case s.Backstage != "" && !strings.HasPrefix(s.Backstage, "http://") && !strings.HasPrefix(s.Backstage, "https://"):
			return fmt.Errorf("config: sources[%d].backstage: want the backend's http(s) base URL, got %q", i, s.Backstage)
		}
		if s.Schedule != "" {
			if _, err := parser.Parse(s.Schedule); err != nil {
				return fmt.Errorf("config: sources[%d].schedule: %v", i, err)
			}
		}
		if s.Name != "" {
			if names[s.Name] {
				return fmt.Errorf("config: sources[%d].name: %q is used twice", i, s.Name)
			}
			names[s.Name] = true
		}
	}
	for i, t := range c.Reports.Targets {
		if t.Platform != "slack" && t.Platform != "discord" {
			return fmt.Errorf("config: reports.targets[%d].platform: want slack or discord, got %q", i, t.Platform)
		}
		if t.Channel == "" {
			return fmt.Errorf("config: reports.targets[%d].channel: required", i)
		}
		if _, err := parser.Parse(t.Schedule); err != nil {
			return fmt.Errorf("config: reports.targets[%d].schedule: want a cron spec: %v", i, err)
		}
		if t.Timezone != "" {
			if _, err := time.LoadLocation(t.Timezone); err != nil {
				return fmt.Errorf("config: reports.targets[%d].timezone: %v", i, err)
			}
		}
		if t.Empty != "" && t.Empty != "skip" && t.Empty != "oneline" {
			return fmt.Errorf("config: reports.targets[%d].empty: want skip or oneline, got %q", i, t.Empty)
		}
	}
	if a := c.Reports.Activity; a.Days < 0 || a.MaxCommits < 0 || a.HalfLife < 0 || a.MinShare < 0 || a.MinShare > 1 || a.MinCommits < 0 {
		return fmt.Errorf("config: reports.activity: days, max_commits, half_life and min_commits must not be negative, min_share within 0..1")
	}
	for e, u := range c.Reports.Activity.Aliases {
		if _, err := catalog.ParseRef(u, catalog.KindUser, ""); err != nil {
			return fmt.Errorf("config: reports.activity.aliases[%q]: %v", e, err)
		}
	}
	if d := c.Reports.TeamDigests; d != nil {
		if d.Platform != "slack" && d.Platform != "discord" {
			return fmt.Errorf("config: reports.team_digests.platform: want slack or discord, got %q", d.Platform)
		}
		if _, err := parser.Parse(d.Schedule); err != nil {
			return fmt.Errorf("config: reports.team_digests.schedule: want a cron spec: %v", err)
		}
		if d.Timezone != "" {
			if _, err := time.LoadLocation(d.Timezone); err != nil {
				return fmt.Errorf("config: reports.team_digests.timezone: want an IANA zone such as Europe/Paris: %v", err)
			}
		}
		if d.Empty != "" && d.Empty != "skip" && d.Empty != "oneline" {
			return fmt.Errorf("config: reports.team_digests.empty: want skip or oneline, got %q", d.Empty)
		}
	}
	if m := c.CatalogModel; m != "" && m != "default" && m != "alpha" {
		return fmt.Errorf("config: catalog_model: want default or alpha, got %q", m)
	}
	if g := c.Discord.Gateway; g != "" && g != "on" && g != "off" {
		return fmt.Errorf("config: discord.gateway: want on or off, got %q", g)
	}
	return nil
}

// cronParser reads every schedule in the configuration: five fields
// (minute hour day-of-month month day-of-week), descriptors such as
// @hourly and @every 30s, and an optional CRON_TZ= prefix. It is
// robfig/cron's standard parser, the one cron.New uses, so a spec that
// validates here is one the schedulers accept.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// secretKeys are YAML keys people try for secrets, with the environment
// variable to use instead.
var secretKeys = map[string]string{
	"slack_bot_token": "SLACK_BOT_TOKEN", "bot_token": "SLACK_BOT_TOKEN or DISCORD_BOT_TOKEN",
	"slack_signing_secret": "SLACK_SIGNING_SECRET", "signing_secret": "SLACK_SIGNING_SECRET",
	"slack_app_token": "SLACK_APP_TOKEN", "app_token": "SLACK_APP_TOKEN",
	"discord_bot_token": "DISCORD_BOT_TOKEN", "discord_token": "DISCORD_BOT_TOKEN",
	"discord_public_key": "DISCORD_PUBLIC_KEY", "public_key": "DISCORD_PUBLIC_KEY",
	"git_token": "PORTALBOT_GIT_TOKEN (or the variable named by token_env)",
	"token":     "an environment variable (see the README's table)", "password": "the database URL in PORTALBOT_DB",
	"backstage_token": "PORTALBOT_BACKSTAGE_TOKEN", "ssh_key": "PORTALBOT_GIT_SSH_KEY or ssh_key_file",
}

// looksSecret reports whether an unknown key's name suggests a credential.
func looksSecret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range []string{"secret", "token", "password", "passwd", "private_key", "api_key", "credential"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// yamlSections names where in the file each config type sits, for
// messages about unknown keys.
var yamlSections = map[string]string{
	"bot.Config": "", "bot.SyncConfig": "sync.", "bot.SourceConfig": "sources[].",
	"bot.ReportsConfig": "reports.", "bot.ReportTarget": "reports.targets[].",
	"bot.TeamDigestConfig": "reports.team_digests.", "bot.TemplatesConfig": "templates.",
	"bot.TemplatePermission": "templates.permissions[].", "bot.PlaceholdersConfig": "placeholders.",
	"bot.SlackConfig": "slack.", "bot.DiscordConfig": "discord.",
}

var unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// explainYAML rewrites yaml.v3's "field x not found in type bot.T" as the
// key's path, and says where secrets go when the key looks like one.
func explainYAML(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := unknownFieldRE.FindStringSubmatch(e)
		if m == nil {
			msgs = append(msgs, e)
			continue
		}
		key := yamlSections[m[3]] + m[2]
		if env, ok := secretKeys[strings.ToLower(m[2])]; ok || looksSecret(m[2]) {
			if !ok {
				env = "an environment variable"
			}
			msgs = append(msgs, fmt.Sprintf("line %s: %s: secrets are not read from the config file; set %s in the environment (or a file it names)", m[1], key, env))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("line %s: %s: unknown key (see the README's configuration section)", m[1], key))
	}
	return errors.New(strings.Join(msgs, "; "))
}
