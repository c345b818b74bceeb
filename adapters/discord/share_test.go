package discord_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// buttonIDs lists the custom ids of the buttons in a response.
func buttonIDs(resp discordgo.InteractionResponse) map[string]string {
	out := map[string]string{}
	if resp.Data == nil {
		return out
	}
	for _, row := range resp.Data.Components {
		for _, c := range row.(*discordgo.ActionsRow).Components {
			if b, ok := c.(*discordgo.Button); ok {
				out[b.Label] = b.CustomID
			}
		}
	}
	return out
}

// TestShareButton answers /portal owner privately with a Share button,
// then clicks it: the answer is posted for the whole channel, saying who
// shared it, and carries no Share button of its own.
func TestShareButton(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.interact(t, readFixture(t, "portal-owner.json"))
	if resp.Data == nil || resp.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("/portal owner answer = %+v, want an ephemeral message", resp)
	}
	id, ok := buttonIDs(resp)["Share in channel"]
	if !ok {
		t.Fatalf("/portal owner answer buttons = %v, want Share in channel", buttonIDs(resp))
	}

	shared := h.interact(t, click(t, id))
	if shared.Type != discordgo.InteractionResponseChannelMessageWithSource || shared.Data.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Fatalf("Share click answer = type %d flags %d, want a public channel message", shared.Type, shared.Data.Flags)
	}
	if len(shared.Data.Embeds) == 0 || shared.Data.Embeds[0].Title != "payments-api" {
		t.Errorf("Share click answer embeds = %+v, want the owner answer again", shared.Data.Embeds)
	}
	if !strings.Contains(shared.Data.Content, "Shared by <@1100000000000000002>") {
		t.Errorf("Share click content = %q, want who shared it", shared.Data.Content)
	}
	if shared.Data.AllowedMentions == nil || len(shared.Data.AllowedMentions.Parse) != 0 {
		t.Errorf("Share click allowed_mentions = %+v, want none (the mention must not ping)", shared.Data.AllowedMentions)
	}
	if _, ok := buttonIDs(shared)["Share in channel"]; ok {
		t.Errorf("shared answer offers Share again: %v", buttonIDs(shared))
	}

	// In-channel answers and answers to buttons get no Share button.
	search := h.interact(t, readFixture(t, "portal-search.json"))
	if _, ok := buttonIDs(search)["Share in channel"]; ok {
		t.Errorf("in-channel search answer offers Share: %v", buttonIDs(search))
	}
}
