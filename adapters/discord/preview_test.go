package discord_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/adapters/discord"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/commands"
)

// TestLinkPreviewThroughGatewayHandler pastes portal links in gateway
// messages and checks the embeds posted in reply, with the real engine.
func TestLinkPreviewThroughGatewayHandler(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata")
	router := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler)})
	h := newHarness(t, func(p *discord.Params) { p.Engine = router; p.Previews = router })

	h.a.HandleMessage(context.Background(), messageCreate(t,
		"look: https://portal.example.com/catalog/default/component/payments-api, and https://portal.example.com/catalog/default/component/nope", ada))
	c := h.fake.next(t)
	if c.Method != http.MethodPost || c.Path != "/api/v9/channels/555000000000000001/messages" {
		t.Fatalf("call = %s %s, want a channel message", c.Method, c.Path)
	}
	var sent discordgo.MessageSend
	if err := json.Unmarshal(c.Raw, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Reference == nil || sent.Reference.MessageID != "880000000000000001" {
		t.Errorf("message_reference = %+v, want a reply to the message with the link", sent.Reference)
	}
	got, err := json.MarshalIndent(sent.Embeds, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "render", "preview.json")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("preview embeds differ from %s (go test -update rewrites it):\n%s", path, got)
	}
	h.fake.none(t) // the unknown entity gets no preview

	for _, content := range []string{
		"suppressed: <https://portal.example.com/catalog/default/component/payments-api>",
		"elsewhere: https://evil.example.com/catalog/default/component/payments-api",
		"no link at all",
	} {
		h.a.HandleMessage(context.Background(), messageCreate(t, content, ada))
		h.fake.none(t)
	}
	bot := discordgo.User{ID: "99", Username: "otherbot", Bot: true}
	h.a.HandleMessage(context.Background(), messageCreate(t, "https://portal.example.com/catalog/default/component/payments-api", bot))
	h.fake.none(t)

	// Message commands off: nothing is read, links included.
	off := newHarness(t, func(p *discord.Params) { p.Engine = router; p.Previews = router; p.MessageCommands = false })
	off.a.HandleMessage(context.Background(), messageCreate(t, "https://portal.example.com/catalog/default/component/payments-api", ada))
	off.fake.none(t)
}
