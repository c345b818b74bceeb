package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
)

func TestResponderUsesAndLifetime(t *testing.T) {
	now := time.Unix(1700000000, 0)
	a := &Adapter{now: func() time.Time { return now }, prefixes: []string{"https://hooks.slack.com/"}}
	if r := a.newResponder("https://evil.example.com/hooks/x"); r != nil {
		t.Errorf("newResponder(foreign host) = %v, want nil", r)
	}
	r := a.newResponder("https://hooks.slack.com/commands/T1/1/x")
	for i := 1; i <= responseURLUses; i++ {
		if !r.take(now) {
			t.Fatalf("take() #%d = false, want true", i)
		}
	}
	if r.take(now) {
		t.Errorf("take() #%d = true, want false (5 uses)", responseURLUses+1)
	}
	r2 := a.newResponder("https://hooks.slack.com/commands/T1/2/y")
	if r2.take(now.Add(responseURLLifetime)) {
		t.Errorf("take() after 30 minutes = true, want false")
	}
}

// TestFollowupsFallBackToWebAPI checks that follow-ups beyond
// response_url's five uses go through chat.postEphemeral.
func TestFollowupsFallBackToWebAPI(t *testing.T) {
	e := newTestEnv(t, nil)
	conv := &conversation{channel: "C1", user: "U1", resp: e.adapter.newResponder(e.slack.hookURL("f"))}
	follow := e.adapter.followup(conv)
	for i := 0; i < responseURLUses+2; i++ {
		if err := follow(context.Background(), commands.Reply{Text: "progress"}); err != nil {
			t.Fatalf("Followup #%d = %v", i+1, err)
		}
	}
	if got := e.slack.count("hook"); got != responseURLUses {
		t.Errorf("response_url used %d times, want %d", got, responseURLUses)
	}
	if got := e.slack.count("chat.postEphemeral"); got != 2 {
		t.Errorf("chat.postEphemeral called %d times, want 2", got)
	}
}

func TestLateViewSubmissionPostsResult(t *testing.T) {
	e := newTestEnv(t, nil)
	e.adapter.budget = 20 * time.Millisecond
	e.router.HandleAction("create", func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		time.Sleep(200 * time.Millisecond)
		return commands.Reply{FieldErrors: map[string]string{"name": "taken"}}, nil
	})
	md, _ := viewMeta{State: "step1", Channel: "C1", ResponseURL: e.slack.hookURL("late")}.encode()
	_, raw := e.post("/slack/interactions", formType, interactionBody(payload(t, "view_submission", map[string]string{"metadata": md, "name": "x"})), time.Time{}, nil)
	if !strings.Contains(raw, `"response_action":"clear"`) {
		t.Errorf("late view submission answer = %s, want clear", raw)
	}
	hook := e.slack.wait(t, "hook")
	if s := jsonText(hook.JSON); !strings.Contains(s, "taken") {
		t.Errorf("late errors posted as %s, want them listed", s)
	}
}
