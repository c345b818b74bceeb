package slack

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// ackRecorder records Socket Mode acks.
type ackRecorder struct {
	mu   sync.Mutex
	acks []recordedAck
}

type recordedAck struct {
	envelope string
	payload  string // JSON, "" for none
}

func (r *ackRecorder) Ack(req socketmode.Request, payload ...any) error {
	a := recordedAck{envelope: req.EnvelopeID}
	if len(payload) > 0 {
		b, err := json.Marshal(payload[0])
		if err != nil {
			return err
		}
		a.payload = string(b)
	}
	r.mu.Lock()
	r.acks = append(r.acks, a)
	r.mu.Unlock()
	return nil
}

func (r *ackRecorder) only(t *testing.T) recordedAck {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.acks) != 1 {
		t.Fatalf("got %d acks, want 1: %v", len(r.acks), r.acks)
	}
	return r.acks[0]
}

// socketEvent builds the Event socketmode.Client emits for a Socket Mode
// envelope of type typ carrying payload.
func socketEvent(t *testing.T, typ string, payload string, retry int) socketmode.Event {
	t.Helper()
	req := &socketmode.Request{Type: typ, EnvelopeID: "env-1", Payload: json.RawMessage(payload), RetryAttempt: retry}
	switch typ {
	case socketmode.RequestTypeSlashCommands:
		var sc slackgo.SlashCommand
		if err := json.Unmarshal(req.Payload, &sc); err != nil {
			t.Fatal(err)
		}
		return socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: sc, Request: req}
	case socketmode.RequestTypeInteractive:
		var cb slackgo.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			t.Fatal(err)
		}
		return socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb, Request: req}
	default:
		ev, err := slackevents.ParseEvent(req.Payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatal(err)
		}
		return socketmode.Event{Type: socketmode.EventTypeEventsAPI, Data: ev, Request: req}
	}
}

func TestSocketModeSlashCommand(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestCommands(e.router)
	e.router.Handle(commands.Command{Name: "huge", Summary: "a long answer",
		Handler: func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
			return commands.Reply{Text: strings.Repeat("long answer ", 3000)}, nil
		}})
	slash := func(text, hook string) string {
		b, _ := json.Marshal(map[string]string{"command": "/portal", "text": text, "user_id": "U1", "channel_id": "C1",
			"response_url": e.slack.hookURL(hook), "trigger_id": "1.2.3"})
		return string(b)
	}

	var rec ackRecorder
	e.adapter.socketEvent(context.Background(), &rec, socketEvent(t, socketmode.RequestTypeSlashCommands, slash("owner payments-api", "s1"), 0))
	if a := rec.only(t); a.envelope != "env-1" || !strings.Contains(a.payload, "payments-api is owned by team-P") {
		t.Errorf("ack = %+v, want envelope env-1 with the answer", a)
	}

	var big ackRecorder
	e.adapter.socketEvent(context.Background(), &big, socketEvent(t, socketmode.RequestTypeSlashCommands, slash("huge", "s2"), 0))
	if a := big.only(t); a.payload != "" {
		t.Errorf("ack of a 36 KB answer carries %d bytes, want an empty ack", len(a.payload))
	}
	if hook := e.slack.wait(t, "hook"); !strings.Contains(hook.JSON["text"].(string), "long answer") {
		t.Errorf("large answer not sent through response_url: %v", hook.JSON["text"])
	}
}

func TestSocketModeSuggestionAndEvents(t *testing.T) {
	e := newTestEnv(t, nil)
	registerTestActions(e.router)
	calls := registerTestCommands(e.router)

	var rec ackRecorder
	e.adapter.socketEvent(context.Background(), &rec, socketEvent(t, socketmode.RequestTypeInteractive, payload(t, "block_suggestion", map[string]string{"value": "pay"}), 0))
	if a := rec.only(t); !strings.Contains(a.payload, `"value":"group:default/paya"`) {
		t.Errorf("block_suggestion ack = %.200s, want options", a.payload)
	}

	mention := payload(t, "event_mention", map[string]string{"user": "U1", "event_id": "Ev0SOCK"})
	for retry := 0; retry < 3; retry++ {
		var ev ackRecorder
		e.adapter.socketEvent(context.Background(), &ev, socketEvent(t, socketmode.RequestTypeEventsAPI, mention, retry))
		if a := ev.only(t); a.payload != "" {
			t.Errorf("events_api ack = %q, want an empty ack", a.payload)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("engine ran %d times for one event and two retries, want 1", n)
	}
	if c := e.slack.wait(t, "chat.postMessage"); c.Form.Get("thread_ts") != "1700000010.000100" {
		t.Errorf("socket mode mention answered outside its thread: %v", c.Form)
	}
}
