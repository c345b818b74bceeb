package slack

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestEventsURLVerification(t *testing.T) {
	e := newTestEnv(t, nil)
	code, body := e.post("/slack/events", "application/json", payload(t, "url_verification", nil), time.Time{}, nil)
	if code != http.StatusOK || body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification = %d %q, want the challenge", code, body)
	}
	code, _ = e.post("/slack/events", "application/json", payload(t, "url_verification", nil), time.Now().Add(-time.Hour), nil)
	if code != http.StatusUnauthorized {
		t.Errorf("stale url_verification = %d, want 401", code)
	}
}

func TestEventsMentionAnsweredInThreadOnce(t *testing.T) {
	// Two adapters sharing one Deduper play two replicas.
	shared := NewMemoryDeduper(nil)
	e := newTestEnv(t, shared)
	calls := registerTestCommands(e.router)
	e2 := newTestEnv(t, shared)
	registerTestCommands(e2.router)

	body := payload(t, "event_mention", map[string]string{"user": "U1", "event_id": "Ev0MENTION"})
	code, _ := e.post("/slack/events", "application/json", body, time.Time{}, nil)
	if code != http.StatusOK {
		t.Fatalf("POST /slack/events = %d", code)
	}
	c := e.slack.wait(t, "chat.postMessage")
	if c.Form.Get("channel") != "C1" || c.Form.Get("thread_ts") != "1700000010.000100" {
		t.Errorf("mention answer posted to %s thread %q, want C1 thread 1700000010.000100", c.Form.Get("channel"), c.Form.Get("thread_ts"))
	}
	if !strings.Contains(c.Form.Get("blocks"), "payments-api is owned by team-P") {
		t.Errorf("mention answer = %s, want the owner answer", c.Form.Get("blocks"))
	}
	// Slack's retries, to this replica and the other, are not answered again.
	e.post("/slack/events", "application/json", body, time.Time{}, map[string]string{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
	e2.post("/slack/events", "application/json", body, time.Time{}, map[string]string{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})
	e.adapter.Wait()
	e2.adapter.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("engine ran %d times for one event delivered three times, want 1", n)
	}
	if n := e.slack.count("chat.postMessage") + e2.slack.count("chat.postMessage"); n != 1 {
		t.Errorf("chat.postMessage called %d times, want 1", n)
	}
	// A retry whose first delivery never arrived is answered.
	retry := payload(t, "event_mention", map[string]string{"user": "U1", "event_id": "Ev0UNSEEN"})
	e2.post("/slack/events", "application/json", retry, time.Time{}, map[string]string{"X-Slack-Retry-Num": "1"})
	e2.adapter.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("first engine ran %d times, want 1", n)
	}
	if n := e2.slack.count("chat.postMessage"); n != 1 {
		t.Errorf("unseen retry answered %d times by the second replica, want 1", n)
	}
}

func TestEventsDirectMessage(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	e.post("/slack/events", "application/json", payload(t, "event_dm", nil), time.Time{}, nil)
	c := e.slack.wait(t, "chat.postMessage")
	if c.Form.Get("channel") != "D1" || c.Form.Get("thread_ts") != "" {
		t.Errorf("DM answer posted to %s thread %q, want D1 outside a thread", c.Form.Get("channel"), c.Form.Get("thread_ts"))
	}
	if !strings.Contains(c.Form.Get("blocks"), "billing & co is owned by team-B") && !strings.Contains(c.Form.Get("blocks"), `billing \u0026 co is owned`) {
		t.Errorf("DM answer = %s, want the owner of 'billing & co'", c.Form.Get("blocks"))
	}
}

func TestEventsIgnoresBots(t *testing.T) {
	e := newTestEnv(t, nil)
	calls := registerTestCommands(e.router)
	e.post("/slack/events", "application/json", payload(t, "event_bot_message", nil), time.Time{}, nil)
	e.post("/slack/events", "application/json", payload(t, "event_mention", map[string]string{"user": "UBOT", "event_id": "Ev0SELF"}), time.Time{}, nil)
	e.adapter.Wait()
	if n := calls.Load(); n != 0 {
		t.Errorf("engine ran %d times for bot messages, want 0", n)
	}
	if got := e.slack.methods(); len(got) != 0 {
		t.Errorf("bot messages caused Slack calls %v", got)
	}
}

func TestCommandText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<@UBOT> who owns payments-api", "who owns payments-api"},
		{"<@UBOT|portalbot>   owner  x ", "owner x"},
		{"hey <@UBOT> owner x", "hey owner x"},
		{"<@UOTHER> owner x", "owner x"},
		{"owner <http://pay.example.com|pay.example.com>", "owner pay.example.com"},
		{"owner <mailto:a@b.c>", "owner a@b.c"},
		{"search a &amp; b &lt;x&gt;", "search a & b <x>"},
		{"ping <!channel> <#C1|general>", "ping general"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := commandText(tt.in, "UBOT"); got != tt.want {
			t.Errorf("commandText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
