package discord_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/adapters/discord"
)

// messageCreate decodes a gateway MESSAGE_CREATE payload into discordgo's
// own event type.
func messageCreate(t *testing.T, content string, author discordgo.User) *discordgo.MessageCreate {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"id": "880000000000000001", "channel_id": "555000000000000001", "guild_id": "777",
		"content": content, "type": 0, "timestamp": "2025-10-09T10:00:00.000000+00:00",
		"author": author, "mentions": []any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	var m discordgo.MessageCreate
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode MESSAGE_CREATE: %v", err)
	}
	return &m
}

var ada = discordgo.User{ID: "1100000000000000002", Username: "ada", GlobalName: "Ada"}

func TestMessageCommandThroughGatewayHandler(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name, content string
	}{
		{"prefix", "!portal owner payments-api"},
		{"prefix upper case", "!PORTAL   owner   payments-api"},
		{"mention", "<@" + testAppID + "> who owns payments-api"},
		{"legacy mention", "<@!" + testAppID + "> owner payments-api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.a.HandleMessage(context.Background(), messageCreate(t, tt.content, ada))
			c := h.fake.next(t)
			if c.Method != http.MethodPost || c.Path != "/api/v9/channels/555000000000000001/messages" {
				t.Fatalf("call = %s %s, want ChannelMessageSendComplex", c.Method, c.Path)
			}
			var sent discordgo.MessageSend
			if err := json.Unmarshal(c.Raw, &sent); err != nil {
				t.Fatal(err)
			}
			if len(sent.Embeds) != 1 || sent.Embeds[0].Title != "payments-api" || !strings.Contains(sent.Embeds[0].Fields[0].Value, "team-payments") {
				t.Errorf("sent %s, want payments-api owned by team-payments", c.Raw)
			}
			if sent.Reference == nil || sent.Reference.MessageID != "880000000000000001" {
				t.Errorf("message_reference = %+v, want a reply to the command", sent.Reference)
			}
			if sent.AllowedMentions == nil || len(sent.AllowedMentions.Parse) != 0 {
				t.Errorf("allowed_mentions = %+v, want none parsed", sent.AllowedMentions)
			}
		})
	}
}

func TestMessageCommandIgnores(t *testing.T) {
	h := newHarness(t, nil)
	bot := discordgo.User{ID: "99", Username: "otherbot", Bot: true}
	self := discordgo.User{ID: testAppID, Username: "portalbot"}
	for _, tt := range []struct {
		name, content string
		author        discordgo.User
	}{
		{"other bot", "!portal owner payments-api", bot},
		{"ourselves", "!portal owner payments-api", self},
		{"no prefix", "who owns payments-api", ada},
		{"prefix inside a word", "!portals owner payments-api", ada},
		{"someone else mentioned", "<@123> owner payments-api", ada},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.a.HandleMessage(context.Background(), messageCreate(t, tt.content, tt.author))
			h.fake.none(t)
		})
	}
	t.Run("message commands off", func(t *testing.T) {
		off := newHarness(t, func(p *discord.Params) { p.MessageCommands = false })
		off.a.HandleMessage(context.Background(), messageCreate(t, "!portal owner payments-api", ada))
		off.fake.none(t)
	})
}

func TestReadyChangesOurID(t *testing.T) {
	h := newHarness(t, nil)
	h.a.HandleReady(&discordgo.Ready{User: &discordgo.User{ID: "31337", Bot: true}})
	h.a.HandleMessage(context.Background(), messageCreate(t, "!portal owner payments-api", discordgo.User{ID: "31337"}))
	h.fake.none(t)
	h.a.HandleMessage(context.Background(), messageCreate(t, "<@31337> owner payments-api", ada))
	if c := h.fake.next(t); !strings.HasSuffix(c.Path, "/messages") {
		t.Errorf("call = %s, want a channel message", c.Path)
	}
}

func TestGatewayInteractionRespondsThroughREST(t *testing.T) {
	h := newHarness(t, nil)
	var ic discordgo.InteractionCreate
	if err := json.Unmarshal(readFixture(t, "portal-owner.json"), &ic); err != nil {
		t.Fatal(err)
	}
	h.a.HandleInteraction(context.Background(), &ic)
	c := h.fake.next(t)
	if c.Path != "/api/v9/interactions/1300000000000000002/interaction-token-1/callback" {
		t.Fatalf("call = %s %s, want the interaction callback", c.Method, c.Path)
	}
	resp := decodeResponse(t, c.Raw)
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Embeds[0].Title != "payments-api" {
		t.Errorf("callback body %s, want a type 4 answer about payments-api", c.Raw)
	}
}

// leaser is a Leaser whose answers the test scripts.
type leaser struct {
	mu       sync.Mutex
	grant    []bool // answers to TryLease, in order; the last repeats
	tries    int
	released chan string
}

func (l *leaser) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok := l.grant[min(l.tries, len(l.grant)-1)]
	l.tries++
	return ok, nil
}

func (l *leaser) ReleaseLease(ctx context.Context, name, holder string) error {
	l.released <- name + " " + holder
	return nil
}

func TestGatewayWaitsForTheLease(t *testing.T) {
	l := &leaser{grant: []bool{false}, released: make(chan string, 1)}
	h := newHarness(t, func(p *discord.Params) { p.Leaser, p.LeaseTTL, p.Holder = l, 30*time.Millisecond, "replica-b" })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.a.RunGateway(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunGateway = %v, want nil after cancel", err)
	}
	// A replica without the lease never connects: no GET /gateway.
	h.fake.none(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tries < 2 {
		t.Errorf("TryLease called %d times, want retries while waiting", l.tries)
	}
}

func TestGatewayGivesUpALostLease(t *testing.T) {
	// Granted, then lost at the first renewal.
	l := &leaser{grant: []bool{true, false}, released: make(chan string, 1)}
	h := newHarness(t, func(p *discord.Params) { p.Leaser, p.LeaseTTL, p.Holder = l, 60*time.Millisecond, "replica-a" })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.a.RunGateway(ctx)
	// The holder connects: discordgo asks the (fake) REST API for the gateway URL.
	if c := h.fake.next(t); c.Path != "/api/v9/gateway" {
		t.Fatalf("first call = %s, want GET /api/v9/gateway", c.Path)
	}
	select {
	case got := <-l.released:
		if got != "discord-gateway-0 replica-a" {
			t.Errorf("released %q, want discord-gateway-0 replica-a", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lost lease was not released")
	}
}
