package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/commands"
)

// discordMessage is one message the fake Discord REST server received.
type discordMessage struct {
	Channel string
	Content string
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Fields      []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
		Footer *struct {
			Text string `json:"text"`
		} `json:"footer"`
	}
	Raw string
	// Files are the message's attachments by name (multipart uploads).
	Files map[string][]byte
}

// embedChars counts what Discord counts toward its 6,000-character total:
// titles, descriptions, field names and values, footers.
func (m discordMessage) embedChars() int {
	n := 0
	for _, e := range m.Embeds {
		n += len([]rune(e.Title)) + len([]rune(e.Description))
		for _, f := range e.Fields {
			n += len([]rune(f.Name)) + len([]rune(f.Value))
		}
		if e.Footer != nil {
			n += len([]rune(e.Footer.Text))
		}
	}
	return n
}

// fakeDiscordREST answers POST /api/v9/channels/{id}/messages with
// Discord's message JSON and records each message.
type fakeDiscordREST struct {
	srv *httptest.Server
	mu  sync.Mutex
	msg []discordMessage // guarded by mu
}

func newFakeDiscordREST(t *testing.T) *fakeDiscordREST {
	t.Helper()
	f := &fakeDiscordREST{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", func(w http.ResponseWriter, r *http.Request) {
		raw, files, err := readDiscordMessage(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m := discordMessage{Channel: r.PathValue("channel"), Raw: string(raw), Files: files}
		if err := json.Unmarshal(raw, &m); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"message": "400: Bad Request", "code": 50035}`)
			return
		}
		f.mu.Lock()
		f.msg = append(f.msg, m)
		id := fmt.Sprint(880000000000000000 + len(f.msg))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": id, "channel_id": m.Channel, "content": m.Content, "type": 0,
			"author": map[string]any{"id": "42", "username": "portalbot", "bot": true}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message": "404: Not Found", "code": 0}`)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// readDiscordMessage reads a create-message body as Discord does: JSON, or
// multipart/form-data with the JSON in payload_json and files in files[n].
func readDiscordMessage(r *http.Request) ([]byte, map[string][]byte, error) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		raw, err := io.ReadAll(r.Body)
		return raw, nil, err
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for field, fhs := range r.MultipartForm.File {
		if !strings.HasPrefix(field, "files[") {
			return nil, nil, fmt.Errorf("unexpected multipart field %q", field)
		}
		for _, fh := range fhs {
			rd, err := fh.Open()
			if err != nil {
				return nil, nil, err
			}
			data, err := io.ReadAll(rd)
			rd.Close()
			if err != nil {
				return nil, nil, err
			}
			files[fh.Filename] = data
		}
	}
	return []byte(r.FormValue("payload_json")), files, nil
}

func (f *fakeDiscordREST) messages() []discordMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]discordMessage(nil), f.msg...)
}

// discordPoster is the Discord poster serve wires from env (HTTP
// interactions off, gateway off), talking to fake.
func discordPoster(t *testing.T, fake *fakeDiscordREST) commands.Poster {
	t.Helper()
	env := map[string]string{
		"DISCORD_BOT_TOKEN":         "discord-report-token",
		"DISCORD_APP_ID":            "424242",
		"PORTALBOT_DISCORD_GATEWAY": "off",
		"PORTALBOT_DISCORD_API_URL": fake.srv.URL + "/api",
	}
	a := &App{
		Env:     &Env{Getenv: func(k string) string { return env[k] }},
		Logger:  slog.New(slog.DiscardHandler),
		Router:  commands.NewRouter(slog.New(slog.DiscardHandler)),
		Mux:     http.NewServeMux(),
		Posters: map[string]commands.Poster{},
	}
	if _, err := discordParts(context.Background(), a); err != nil {
		t.Fatalf("discordParts: %v", err)
	}
	if a.Posters["discord"] == nil {
		t.Fatal("discordParts set no poster")
	}
	return a.Posters["discord"]
}

// platformReporter is one replica posting through posters.
func platformReporter(st runStore, posters map[string]commands.Poster, holder string) *reporter {
	rp := testReporter(st, nil, holder)
	rp.posters = posters
	return rp
}

func TestScheduledReportPostsOnceToDiscord(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	loadDriftFixture(t, st, "c1", nil)
	fake := newFakeDiscordREST(t)
	// Two replicas: separate stores and adapters, one database, one Discord.
	replicas := []*reporter{
		platformReporter(st, map[string]commands.Poster{"discord": discordPoster(t, fake)}, "replica-a"),
		platformReporter(secondStore(t, st), map[string]commands.Poster{"discord": discordPoster(t, fake)}, "replica-b"),
	}
	target := ReportTarget{Name: "discord-weekly", Platform: "discord", Channel: "1200000000000000001", Schedule: "0 9 * * 1"}
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for i := range 2 {
		tick := base.AddDate(0, 0, 7*i)
		outcomes := make([]string, len(replicas))
		var wg sync.WaitGroup
		for r, rp := range replicas {
			wg.Go(func() {
				out, err := rp.runTarget(ctx, target, tick)
				if err != nil {
					t.Errorf("replica %d: runTarget(%s): %v", r, tick, err)
				}
				outcomes[r] = out
			})
		}
		wg.Wait()
		sort.Strings(outcomes)
		if want := []string{outcomePosted, outcomeSkipped}; !slices.Equal(outcomes, want) {
			t.Errorf("tick %s: outcomes %v, want %v", tick, outcomes, want)
		}
	}
	msgs := fake.messages()
	if len(msgs) != 2 {
		t.Fatalf("fake Discord got %d messages, want 2 (one per tick)", len(msgs))
	}
	for _, m := range msgs {
		if m.Channel != "1200000000000000001" {
			t.Errorf("message to %q, want the target's channel", m.Channel)
		}
		for _, want := range []string{"Ownership drift report: discord-weekly", "orphan-svc", "group:default/payments"} {
			if !strings.Contains(m.Raw, want) {
				t.Errorf("message lacks %q:\n%s", want, m.Raw)
			}
		}
	}
	if strings.Contains(msgs[0].Raw, "discord-report-token") {
		t.Error("the bot token leaked into a message")
	}
}

// longCatalog writes a catalog whose drift report exceeds one Slack message
// (50 blocks) and one Discord message (10 embeds): teams components, each
// owned by one of owners missing groups. It returns the component refs.
func longCatalog(t *testing.T, owners, perOwner int) (dir string, refs []string) {
	t.Helper()
	dir = t.TempDir()
	var b strings.Builder
	for o := range owners {
		for c := range perOwner {
			name := fmt.Sprintf("svc-%02d-%d", o, c)
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  description: Service %s of a team that left.\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/gone-team-%02d\n", name, name, o)
			refs = append(refs, "component:default/"+name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, refs
}

// slackThreads is a fake chat.postMessage recording thread_ts.
type slackThreads struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts []url.Values // guarded by mu
	files slackFiles
}

func newSlackThreads(t *testing.T) *slackThreads {
	t.Helper()
	f := &slackThreads{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.files.serve(w, r, f.srv.URL) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/chat.postMessage" || r.ParseForm() != nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		f.mu.Lock()
		f.posts = append(f.posts, r.PostForm)
		ts := fmt.Sprintf("1700000000.%06d", len(f.posts))
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": ts})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// TestLongReportIsSummaryWithListAttached posts the report of 805 teams
// (Discord used to stop after 9 of them, Slack to post 65 messages) to
// Slack and to Discord: one message each, within the platform's limits,
// with every finding in the attached list exactly once.
func TestLongReportIsSummaryWithListAttached(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	dir, refs := longCatalog(t, 805, 1)
	catalogtest.LoadDir(t, st, "acme/catalog", dir)
	slack := newSlackThreads(t)
	discord := newFakeDiscordREST(t)
	rp := platformReporter(st, map[string]commands.Poster{
		"slack":   slackadapter.NewPoster(slackgo.New("xoxb-test", slackgo.OptionAPIURL(slack.srv.URL+"/api/")), nil),
		"discord": discordPoster(t, discord),
	}, "replica-a")
	tick := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, platform := range []string{"slack", "discord"} {
		target := ReportTarget{Name: "long-" + platform, Platform: platform, Channel: "C0LONG", Schedule: "0 9 * * 1", Rules: []string{drift.RuleUnknownOwner}}
		if out, err := rp.runTarget(ctx, target, tick); err != nil || out != outcomePosted {
			t.Fatalf("runTarget(%s) = %q, %v; want %q", platform, out, err, outcomePosted)
		}
	}

	// Slack: one message within 50 blocks, the lists in its thread.
	slack.mu.Lock()
	posts := slices.Clone(slack.posts)
	slack.mu.Unlock()
	if len(posts) != 1 {
		t.Fatalf("Slack got %d messages, want 1 summary", len(posts))
	}
	var blocks []json.RawMessage
	if err := json.Unmarshal([]byte(posts[0].Get("blocks")), &blocks); err != nil || len(blocks) > 50 {
		t.Errorf("Slack summary: %d blocks (%v), Slack allows 50", len(blocks), err)
	}
	for _, want := range []string{"Ownership drift report: long-slack", "805 findings (805 issues) in 805 teams", "795 more teams, in the attached list", "attached as drift-report.md and drift-report.csv"} {
		if !strings.Contains(posts[0].Get("blocks"), want) {
			t.Errorf("Slack summary lacks %q", want)
		}
	}
	ups := slack.files.uploads()
	if len(ups) != 2 {
		t.Fatalf("Slack got %d uploads, want the Markdown and CSV lists", len(ups))
	}
	for _, u := range ups {
		if u.Channel != "C0LONG" || u.Thread != "1700000000.000001" {
			t.Errorf("upload %s in %s thread %q, want the summary's thread", u.Name, u.Channel, u.Thread)
		}
	}

	// Discord: one message within its limits, the lists attached.
	msgs := discord.messages()
	if len(msgs) != 1 {
		t.Fatalf("Discord got %d messages, want 1 summary", len(msgs))
	}
	m := msgs[0]
	if len(m.Embeds) > 10 || m.embedChars() > 6000 || len([]rune(m.Content)) > 2000 {
		t.Errorf("Discord summary: %d embeds, %d embed characters, %d content characters; limits 10, 6000, 2000", len(m.Embeds), m.embedChars(), len([]rune(m.Content)))
	}

	// Nothing dropped, nothing repeated: each finding once in each list.
	lists := map[string][]byte{
		"slack md": ups[0].Data, "slack csv": ups[1].Data,
		"discord md": m.Files["drift-report.md"], "discord csv": m.Files["drift-report.csv"],
	}
	for name, data := range lists {
		for _, ref := range refs {
			if n := strings.Count(string(data), ref+"`"); strings.HasSuffix(name, "md") && n != 1 {
				t.Errorf("%s: finding %s appears %d times, want 1", name, ref, n)
			}
			if n := strings.Count(string(data), ","+ref+","); strings.HasSuffix(name, "csv") && n != 1 {
				t.Errorf("%s: finding %s appears %d times, want 1", name, ref, n)
			}
		}
	}
}
