package discord_test

import (
	"encoding/json"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
)

// modalSubmit builds a MODAL_SUBMIT interaction as Discord sends it.
func modalSubmit(t *testing.T, customID string, values ...string) []byte {
	t.Helper()
	var rows []any
	for i, v := range values {
		rows = append(rows, map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 4, "custom_id": "i" + string(rune('0'+i)), "value": v},
		}})
	}
	return interactionJSON(t, 5, map[string]any{"custom_id": customID, "components": rows})
}

// click builds a MESSAGE_COMPONENT interaction for a button.
func click(t *testing.T, customID string) []byte {
	t.Helper()
	return interactionJSON(t, 3, map[string]any{"custom_id": customID, "component_type": 2})
}

func interactionJSON(t *testing.T, typ int, data map[string]any) []byte {
	t.Helper()
	var base map[string]any
	if err := json.Unmarshal(readFixture(t, "portal-owner.json"), &base); err != nil {
		t.Fatal(err)
	}
	base["type"], base["data"] = typ, data
	b, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type modalInput struct{ ID, Label, Value, Placeholder string }

func modalInputs(t *testing.T, resp discordgo.InteractionResponse) []modalInput {
	t.Helper()
	if resp.Type != discordgo.InteractionResponseModal {
		t.Fatalf("response type = %d, want 9 (modal)", resp.Type)
	}
	var out []modalInput
	for _, row := range resp.Data.Components {
		for _, c := range row.(*discordgo.ActionsRow).Components {
			ti := c.(*discordgo.TextInput)
			out = append(out, modalInput{ti.CustomID, ti.Label, ti.Value, ti.Placeholder})
		}
	}
	return out
}

// button returns the custom id of the only button of a message answer.
func button(t *testing.T, resp discordgo.InteractionResponse) string {
	t.Helper()
	if resp.Data == nil || len(resp.Data.Components) != 1 {
		t.Fatalf("answer %+v, want one row with a button", resp.Data)
	}
	return resp.Data.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.Button).CustomID
}

func TestFormSplitIntoModalsKeepsWhatWasTyped(t *testing.T) {
	h := newHarness(t, nil)
	body := interactionJSON(t, 2, map[string]any{"name": "portal", "type": 1, "options": []any{
		map[string]any{"name": "create", "type": 1, "options": []any{map[string]any{"name": "template", "type": 3, "value": "go-service"}}},
	}})

	// Seven inputs: a first modal of five.
	resp := h.interact(t, body)
	if resp.Data.Title != "New Go service (1/2)" {
		t.Errorf("modal title = %q, want the part shown", resp.Data.Title)
	}
	got := modalInputs(t, resp)
	want := []modalInput{
		{"i0", "Name", "", ""},
		{"i1", "Description", "", ""},
		{"i2", "Owner", "", "a catalog entity, e.g. group:default/team-a"},
		{"i3", "Lifecycle", "Experimental", "one of: Experimental, Production"},
		{"i4", "Enable CI", "yes", "yes or no"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("first modal (-want +got):\n%s", diff)
	}
	modal1 := resp.Data.CustomID

	// Submitting part 1 offers a button to continue: Discord cannot
	// answer a modal with a modal.
	resp = h.interact(t, modalSubmit(t, modal1, "My-Service", "Takes payments.", "group:team-payments", "production", "no"))
	cont := button(t, resp)
	resp = h.interact(t, click(t, cont))
	got = modalInputs(t, resp)
	if len(got) != 2 || got[0].Label != "Regions" || got[1].Label != "Replicas" {
		t.Fatalf("second modal = %+v, want Regions and Replicas", got)
	}
	resp = h.interact(t, modalSubmit(t, resp.Data.CustomID, "EU, us-east-1", "3"))

	sub := <-h.engine.submissions
	wantValues := map[string][]string{
		"name": {"My-Service"}, "description": {"Takes payments."}, "owner": {"group:team-payments"},
		"lifecycle": {"production"}, "ci": {"false"}, "regions": {"eu-west-1", "us-east-1"}, "replicas": {"3"},
	}
	if diff := cmp.Diff(wantValues, sub.Values); diff != "" {
		t.Errorf("submitted values (-want +got):\n%s", diff)
	}
	if sub.State != "template:default/go-service" {
		t.Errorf("state = %q, want the form's state back", sub.State)
	}

	// The engine rejects the name: an ephemeral message with the error and
	// a button reopening the first modal with everything as typed.
	if resp.Data.Flags != discordgo.MessageFlagsEphemeral || len(resp.Data.Embeds) != 1 {
		t.Fatalf("errors answer = %+v, want an ephemeral embed", resp.Data)
	}
	if f := resp.Data.Embeds[0].Fields; len(f) != 1 || f[0].Name != "Name" || f[0].Value != "must be lower case" {
		t.Errorf("error fields = %+v, want Name: must be lower case", f)
	}
	resp = h.interact(t, click(t, button(t, resp)))
	got = modalInputs(t, resp)
	if got[0].Value != "My-Service" || got[3].Value != "Production" || got[4].Value != "no" {
		t.Errorf("reopened modal = %+v, want the typed values back", got)
	}

	// A retried identical submission carries the same key; a corrected one does not.
	h.interact(t, modalSubmit(t, resp.Data.CustomID, "My-Service", "Takes payments.", "group:team-payments", "production", "no"))
	again := <-h.engine.submissions
	if again.Key != sub.Key {
		t.Errorf("retried submission key %q != first %q", again.Key, sub.Key)
	}
	resp = h.interact(t, modalSubmit(t, resp.Data.CustomID, "my-service", "Takes payments.", "group:team-payments", "production", "no"))
	fixed := <-h.engine.submissions
	if fixed.Key == sub.Key {
		t.Errorf("corrected submission has the same key %q", fixed.Key)
	}
	if resp.Data.Content != "launched my-service" || resp.Data.Flags != 0 {
		t.Errorf("final answer = %+v, want an in-channel launch message", resp.Data)
	}
}

func TestExpiredOrForeignCustomIDs(t *testing.T) {
	h := newHarness(t, nil)
	for _, id := range []string{"o|nosuchkey|0", "k|nosuchkey", "garbage", "m|x|notanumber"} {
		resp := h.interact(t, click(t, id))
		if resp.Data == nil || resp.Data.Content == "" || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
			t.Errorf("click %q = %+v, want an ephemeral expiry notice", id, resp.Data)
		}
	}
}
