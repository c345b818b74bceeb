package slack

import (
	"encoding/json"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// engineEnv is newTestEnv with the real command engine on st.
func engineEnv(t *testing.T, st *sqlstore.Store) *testEnv {
	t.Helper()
	fs := newFakeSlack(t)
	router := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler)})
	a, err := New(Params{Engine: router, API: fs.client(), SigningSecret: testSecret, BotUserID: "UBOT", Dedupe: st,
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

// TestSlashOwnerFromSyncedCatalog runs a signed /portal owner through the
// real engine on a synced catalog, in SQLite and Postgres.
func TestSlashOwnerFromSyncedCatalog(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
			e := engineEnv(t, st)

			code, body := e.post("/slack/commands", formType, e.slashBody("owner payments-api", "h"), time.Time{}, nil)
			if code != http.StatusOK {
				t.Fatalf("POST /slack/commands = %d %s", code, body)
			}
			var msg slackgo.WebhookMessage
			if err := json.Unmarshal([]byte(body), &msg); err != nil {
				t.Fatalf("answer %q: %v", body, err)
			}
			text := jsonText(msg)
			for _, want := range []string{"Payments Team", "https://portal.example.com/catalog/default/component/payments-api", "checkout"} {
				if !strings.Contains(text, want) {
					t.Errorf("owner answer lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "<b>") {
				t.Errorf("owner answer carries unescaped catalog markup:\n%s", text)
			}

			_, body = e.post("/slack/commands", formType, e.slashBody("owner paymnts-api", "h"), time.Time{}, nil)
			if !strings.Contains(body, "payments-api") {
				t.Errorf("typo answer = %s, want a suggestion of payments-api", body)
			}

			// A mention in a channel, answered in its thread, once even if retried.
			ev := payload(t, "event_mention", map[string]string{"user": "U1", "event_id": "Ev0E2E"})
			e.post("/slack/events", "application/json", ev, time.Time{}, nil)
			e.post("/slack/events", "application/json", ev, time.Time{}, map[string]string{"X-Slack-Retry-Num": "1"})
			c := e.slack.wait(t, "chat.postMessage")
			e.adapter.Wait()
			if n := e.slack.count("chat.postMessage"); n != 1 {
				t.Errorf("mention answered %d times, want 1", n)
			}
			if !strings.Contains(c.Form.Get("blocks"), "Payments Team") {
				t.Errorf("mention answer = %s, want the owner", c.Form.Get("blocks"))
			}
		})
	}
}

// TestPlainLookupMakesNoUsersInfo fails before the fix: every command
// first looked up the user's email with users.info, a Web API call on the
// hot path of a plain owner lookup that never reads it.
func TestPlainLookupMakesNoUsersInfo(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")
	e := engineEnv(t, st)
	for _, text := range []string{"owner payments-api", "docs payments-api", "search payments", "owner paymnts-api"} {
		if code, body := e.post("/slack/commands", formType, e.slashBody(text, "h"), time.Time{}, nil); code != http.StatusOK {
			t.Fatalf("POST /slack/commands %q = %d %s", text, code, body)
		}
	}
	e.adapter.Wait()
	if n := e.slack.count("users.info"); n != 0 {
		t.Errorf("users.info calls for plain lookups = %d, want 0", n)
	}
}
