package slack

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// TestMarshalMessageMatchesSlackGo checks that marshalAnswer writes the
// bytes json.Marshal writes through slack-go's own Blocks encoding.
func TestMarshalMessageMatchesSlackGo(t *testing.T) {
	many := commands.Reply{Title: "Drift report", MoreURL: "https://portal.example.com/drift"}
	for i := range 60 {
		many.Sections = append(many.Sections, commands.Section{Title: "team-" + strings.Repeat("x", i%3), Text: "unknown-owner <&> " + strings.Repeat("é", i)})
	}
	yes := true
	msgs := map[string]any{
		"owner":        immediate(ownerReply(), "t:owner payments-api"),
		"in_channel":   immediate(commands.Reply{Text: "Shared <!channel>", InChannel: true}, "t:owner x"),
		"truncated":    immediate(many, ""),
		"no_blocks":    &slackgo.WebhookMessage{Text: "only text", ResponseType: slackgo.ResponseTypeEphemeral},
		"empty_blocks": &slackgo.WebhookMessage{Text: "x", Blocks: &slackgo.Blocks{}},
		"every_field": &slackgo.WebhookMessage{Username: "u", IconEmoji: ":x:", IconURL: "https://e.com/i.png", Channel: "C1",
			ThreadTimestamp: "1.2", Text: "t", Attachments: []slackgo.Attachment{{Text: "a"}}, Parse: "full",
			Blocks:       &slackgo.Blocks{BlockSet: messageBlocks(ownerReply(), "")},
			ResponseType: "in_channel", ReplaceOriginal: true, DeleteOriginal: true, ReplyBroadcast: true, UnfurlLinks: &yes, UnfurlMedia: &yes},
		"options": &slackgo.OptionsResponse{},
		"odd_blocks": &slackgo.WebhookMessage{Blocks: &slackgo.Blocks{BlockSet: []slackgo.Block{
			&slackgo.ActionBlock{Type: slackgo.MBTAction}, &slackgo.ActionBlock{Type: slackgo.MBTAction, BlockID: "b", Elements: &slackgo.BlockElements{}},
			&slackgo.ContextBlock{Type: slackgo.MBTContext}, slackgo.NewDividerBlock(),
		}}},
	}
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalAnswer(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("marshalAnswer() =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestWebhookJSONMirrorsSlackGo fails when slack-go's WebhookMessage gains,
// loses or renames a field that webhookJSON would then drop.
func TestWebhookJSONMirrorsSlackGo(t *testing.T) {
	for _, tt := range []struct{ want, got reflect.Type }{
		{reflect.TypeFor[slackgo.WebhookMessage](), reflect.TypeFor[webhookJSON]()},
		{reflect.TypeFor[slackgo.ActionBlock](), reflect.TypeFor[actionBlockJSON]()},
		{reflect.TypeFor[slackgo.ContextBlock](), reflect.TypeFor[contextBlockJSON]()},
	} {
		want, got := tt.want, tt.got
		if got.NumField() != want.NumField() {
			t.Fatalf("%s has %d fields, %s %d", got, got.NumField(), want, want.NumField())
		}
		for i := range want.NumField() {
			w, g := want.Field(i), got.Field(i)
			if g.Tag != w.Tag {
				t.Errorf("%s field %d = %s %q, want %s %q", got, i, g.Name, g.Tag, w.Name, w.Tag)
			}
		}
	}
}
