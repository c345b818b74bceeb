package slack

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// TestAppHomeOpenedPublishesHome sends signed app_home_opened events
// through /slack/events and checks the views.publish the fake Slack gets.
func TestAppHomeOpenedPublishesHome(t *testing.T) {
	e := previewEnv(t)
	// The fake's users.info gives user ADA the email ada@example.com,
	// that of the catalog's User ada, a member of payments.
	body := payload(t, "event_app_home_opened", map[string]string{"user": "ADA", "tab": "home", "event_id": "Ev0HOME1"})
	if code, _ := e.post("/slack/events", "application/json", body, time.Time{}, nil); code != http.StatusOK {
		t.Fatalf("POST /slack/events (app_home_opened) = %d", code)
	}
	c := e.slack.wait(t, "views.publish")
	if c.Form.Get("user_id") != "ADA" && c.JSON["user_id"] != "ADA" {
		t.Errorf("views.publish for form %v json %v, want user ADA", c.Form, c.JSON)
	}
	raw := c.Form.Get("view")
	if raw == "" {
		b, _ := json.Marshal(c.JSON["view"])
		raw = string(b)
	}
	var view slackgo.HomeTabViewRequest
	if err := json.Unmarshal([]byte(raw), &view); err != nil {
		t.Fatalf("views.publish view = %s: %v", raw, err)
	}
	if view.Type != slackgo.VTHomeTab {
		t.Errorf("published view type %q, want home", view.Type)
	}
	golden(t, "home_ada", view)
	for _, want := range []string{"Hello, Ada Lovelace", "Your team Payments Team (group:payments)", "component:payments-api"} {
		if !strings.Contains(raw, want) {
			t.Errorf("home view lacks %q:\n%s", want, raw)
		}
	}

	// The Messages tab opening publishes nothing.
	e.post("/slack/events", "application/json", payload(t, "event_app_home_opened", map[string]string{"user": "ADA", "tab": "messages", "event_id": "Ev0HOME2"}), time.Time{}, nil)
	e.adapter.Wait()
	if n := e.slack.count("views.publish"); n != 1 {
		t.Errorf("views.publish called %d times, want 1 (not for the Messages tab)", n)
	}
}

// TestHomeTabButtonAnswersInDM clicks a button of the Home tab: the answer
// goes to the app's DM with the user, by user id.
func TestHomeTabButtonAnswersInDM(t *testing.T) {
	e := previewEnv(t)
	body := payload(t, "block_actions_home", map[string]string{"user": "UADA", "action_id": "run#1", "value": "owner payments-api"})
	if code, _ := e.post("/slack/interactions", formType, interactionBody(body), time.Time{}, nil); code != http.StatusOK {
		t.Fatalf("POST /slack/interactions (home button) = %d", code)
	}
	c := e.slack.wait(t, "chat.postMessage")
	if c.Form.Get("channel") != "UADA" || !strings.Contains(c.Form.Get("blocks"), "Payments Team") {
		t.Errorf("home button answer posted to %q: %s, want the owner answer in the DM (channel UADA)", c.Form.Get("channel"), c.Form.Get("blocks"))
	}
	if n := e.slack.count("chat.postEphemeral"); n != 0 {
		t.Errorf("chat.postEphemeral called %d times, want 0 (no ephemeral in a DM by user id)", n)
	}
}

func TestHomeViewCapped(t *testing.T) {
	var r commands.Reply
	for range 150 {
		r.Sections = append(r.Sections, commands.Section{Title: "t", Text: "x"})
	}
	if v := homeView(r); len(v.Blocks.BlockSet) != maxModalBlocks {
		t.Errorf("homeView(150 sections) = %d blocks, want %d", len(v.Blocks.BlockSet), maxModalBlocks)
	}
}
