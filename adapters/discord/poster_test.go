package discord_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/adapters/discord"
	"github.com/portalbot/portalbot/commands"
)

func TestPostSplitsLongReplies(t *testing.T) {
	h := newHarness(t, nil)
	line := "component:default/payments-api has drifted from its CODEOWNERS entry.\n"
	r := commands.Reply{Text: strings.Repeat(line, 60)} // ~4,300 characters: three messages
	id, err := h.a.Post(context.Background(), "555000000000000009", "880000000000000002", r)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	var got strings.Builder
	for i := range 3 {
		c := h.fake.next(t)
		if c.Path != "/api/v9/channels/555000000000000009/messages" {
			t.Fatalf("call %d = %s, want a channel message", i, c.Path)
		}
		var m discordgo.MessageSend
		if err := json.Unmarshal(c.Raw, &m); err != nil {
			t.Fatal(err)
		}
		if n := len([]rune(m.Content)); n == 0 || n > 2000 {
			t.Errorf("message %d has %d characters, want 1–2000", i, n)
		}
		if (m.Reference != nil) != (i == 0) {
			t.Errorf("message %d reference = %+v, want only the first to reply to the thread", i, m.Reference)
		}
		got.WriteString(m.Content + "\n")
	}
	h.fake.none(t)
	if strings.Count(got.String(), "payments-api") != 60 {
		t.Errorf("posted text lost lines: %d of 60", strings.Count(got.String(), "payments-api"))
	}
	if id == "" {
		t.Error("Post returned no message id")
	}
}

func TestPostSurfacesErrors(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.a.Post(context.Background(), "forbidden", "", commands.Reply{Text: "hello"})
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Message == nil || re.Message.Code != 50001 {
		t.Fatalf("Post to a forbidden channel = %v, want Discord's REST error 50001", err)
	}
}

func TestTokensNeverInErrors(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, func(p *discord.Params) { p.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	h.fake.srv.Close() // every call now fails in the transport, URL and all
	_, err := h.a.Post(context.Background(), "1", "", commands.Reply{Text: "x"})
	var ue *url.Error
	if err == nil || errors.As(err, &ue) || strings.Contains(err.Error(), "/api/") {
		t.Errorf("Post error = %v, want the transport error without its URL", err)
	}
	// An interaction's callback URL holds its token; the failure is logged without it.
	var ic discordgo.InteractionCreate
	if err := json.Unmarshal(readFixture(t, "portal-owner.json"), &ic); err != nil {
		t.Fatal(err)
	}
	h.a.HandleInteraction(context.Background(), &ic)
	if !strings.Contains(logs.String(), "discord interaction response failed") {
		t.Errorf("logs = %q, want the failed response logged", logs.String())
	}
	if strings.Contains(logs.String(), "interaction-token-1") || strings.Contains(logs.String(), "test-token") {
		t.Errorf("logs leak a token: %s", logs.String())
	}
}

func TestPostAttachesFiles(t *testing.T) {
	h := newHarness(t, nil)
	r := commands.Reply{Title: "Drift report", Text: "3 findings", InChannel: true, Files: []commands.File{
		{Name: "drift-report.md", ContentType: "text/markdown", Data: []byte("# Drift\n")},
		{Name: "drift-report.csv", ContentType: "text/csv", Data: []byte("a,b\n")},
		{Name: "huge.csv", ContentType: "text/csv", Data: make([]byte, 11<<20)},
	}}
	if _, err := h.a.Post(context.Background(), "555000000000000009", "", r); err != nil {
		t.Fatalf("Post: %v", err)
	}
	c := h.fake.next(t)
	h.fake.none(t)
	if string(c.Files["drift-report.md"]) != "# Drift\n" || string(c.Files["drift-report.csv"]) != "a,b\n" || c.Files["huge.csv"] != nil {
		t.Errorf("attachments = %v, want the two small files", keys(c.Files))
	}
	var m discordgo.MessageSend
	if err := json.Unmarshal(c.Raw, &m); err != nil {
		t.Fatalf("payload_json: %v", err)
	}
	if len(m.Embeds) == 0 || m.Embeds[0].Title != "Drift report" {
		t.Errorf("payload_json embeds = %+v, want the report", m.Embeds)
	}
	if !strings.Contains(m.Content, "huge.csv") || !strings.Contains(m.Content, "upload limit") {
		t.Errorf("content = %q, want a note on the file left out", m.Content)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
