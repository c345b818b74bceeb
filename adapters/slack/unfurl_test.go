package slack

import (
	"encoding/json"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// previewEnv is engineEnv with link previews and the Home tab on, on a
// SQLite store holding testdata/catalog.
func previewEnv(t *testing.T) *testEnv {
	t.Helper()
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
	fs := newFakeSlack(t)
	router := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler)})
	a, err := New(Params{Engine: router, Previews: router, Home: router, API: fs.client(), SigningSecret: testSecret, BotUserID: "UBOT", Dedupe: st,
		ResponseURLPrefixes: []string{fs.srv.URL + "/hooks/"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); a.Wait() })
	return &testEnv{t: t, slack: fs, router: router, adapter: a, srv: srv, signer: NewVerifier(testSecret, nil)}
}

// TestLinkSharedUnfurls sends signed link_shared events through
// /slack/events and checks the chat.unfurl the fake Slack receives.
func TestLinkSharedUnfurls(t *testing.T) {
	e := previewEnv(t)
	vars := map[string]string{"user": "U1", "event_id": "Ev0LINK1", "message_ts": "1700000020.000200",
		"unfurl_id": "C1.1700000020.000200.8c1b", "source": "conversations_history"}
	body := payload(t, "event_link_shared", vars)
	if code, _ := e.post("/slack/events", "application/json", body, time.Time{}, nil); code != http.StatusOK {
		t.Fatalf("POST /slack/events (link_shared) = %d", code)
	}
	c := e.slack.wait(t, "chat.unfurl")
	if c.Form.Get("unfurl_id") != vars["unfurl_id"] || c.Form.Get("source") != "conversations_history" {
		t.Errorf("chat.unfurl unfurl_id %q source %q, want the event's", c.Form.Get("unfurl_id"), c.Form.Get("source"))
	}
	var unfurls map[string]slackgo.Attachment
	if err := json.Unmarshal([]byte(c.Form.Get("unfurls")), &unfurls); err != nil {
		t.Fatalf("chat.unfurl unfurls = %q: %v", c.Form.Get("unfurls"), err)
	}
	if len(unfurls) != 1 {
		t.Errorf("chat.unfurl unfurled %d links, want 1 (unknown entities and docs pages get none)", len(unfurls))
	}
	golden(t, "unfurl_payments_api", unfurls)

	// A retry of the same event is not unfurled again.
	e.post("/slack/events", "application/json", body, time.Time{}, map[string]string{"X-Slack-Retry-Num": "1"})
	e.adapter.Wait()
	if n := e.slack.count("chat.unfurl"); n != 1 {
		t.Errorf("chat.unfurl called %d times for one event delivered twice, want 1", n)
	}

	// Without unfurl_id (older events), channel and message ts name the message.
	delete(vars, "unfurl_id")
	vars["unfurl_id"], vars["source"], vars["event_id"] = "", "", "Ev0LINK2"
	e.post("/slack/events", "application/json", payload(t, "event_link_shared", vars), time.Time{}, nil)
	c = e.slack.wait(t, "chat.unfurl")
	if c.Form.Get("channel") != "C1" || c.Form.Get("ts") != "1700000020.000200" || c.Form.Get("unfurl_id") != "" {
		t.Errorf("chat.unfurl channel %q ts %q unfurl_id %q, want C1 1700000020.000200 and no unfurl_id",
			c.Form.Get("channel"), c.Form.Get("ts"), c.Form.Get("unfurl_id"))
	}

	// Links in the bot's own messages are not unfurled.
	vars["user"], vars["event_id"] = "UBOT", "Ev0LINK3"
	e.post("/slack/events", "application/json", payload(t, "event_link_shared", vars), time.Time{}, nil)
	e.adapter.Wait()
	if n := e.slack.count("chat.unfurl"); n != 2 {
		t.Errorf("chat.unfurl called %d times in all, want 2 (none for the bot's own message)", n)
	}
}

func TestUnfurlBlocksText(t *testing.T) {
	bs := unfurlBlocks(commands.Reply{Title: "Payments <API>", Text: "Takes payments.", Buttons: []commands.Button{{Text: "x", Action: "y"}}})
	if len(bs) != 1 {
		t.Fatalf("unfurlBlocks = %d blocks, want 1 section (no header, no buttons)", len(bs))
	}
	sec, ok := bs[0].(*slackgo.SectionBlock)
	if want := "*Payments &lt;API&gt;*\nTakes payments."; !ok || sec.Text.Text != want {
		t.Errorf("unfurlBlocks first block = %#v, want a section %q", bs[0], want)
	}
}
