package slack

import (
	"encoding/json"

	slackgo "github.com/slack-go/slack"
)

// webhookJSON is slackgo.WebhookMessage with the same JSON fields in the
// same order, but its blocks as a plain slice. slack-go's Blocks marshals
// its slice with a json.Marshal of its own, whose output encoding/json then
// scans and copies again: a third of an owner command's CPU went to that
// (issue 19). The bytes are the same; TestMarshalMessageMatchesSlackGo pins it.
type webhookJSON struct {
	Username        string               `json:"username,omitempty"`
	IconEmoji       string               `json:"icon_emoji,omitempty"`
	IconURL         string               `json:"icon_url,omitempty"`
	Channel         string               `json:"channel,omitempty"`
	ThreadTimestamp string               `json:"thread_ts,omitempty"`
	Text            string               `json:"text,omitempty"`
	Attachments     []slackgo.Attachment `json:"attachments,omitempty"`
	Parse           string               `json:"parse,omitempty"`
	Blocks          []any                `json:"blocks,omitempty"`
	ResponseType    string               `json:"response_type,omitempty"`
	ReplaceOriginal bool                 `json:"replace_original"`
	DeleteOriginal  bool                 `json:"delete_original"`
	ReplyBroadcast  bool                 `json:"reply_broadcast,omitempty"`
	UnfurlLinks     *bool                `json:"unfurl_links,omitempty"`
	UnfurlMedia     *bool                `json:"unfurl_media,omitempty"`
}

// actionBlockJSON and contextBlockJSON are slack-go's ActionBlock and
// ContextBlock with their elements as plain slices, for the same reason.
type actionBlockJSON struct {
	Type     slackgo.MessageBlockType `json:"type"`
	BlockID  string                   `json:"block_id,omitempty"`
	Elements []slackgo.BlockElement   `json:"elements"`
}

type contextBlockJSON struct {
	Type     slackgo.MessageBlockType `json:"type"`
	BlockID  string                   `json:"block_id,omitempty"`
	Elements []slackgo.MixedElement   `json:"elements"`
}

// plainBlocks returns bs with action and context blocks replaced by their
// plain mirrors.
func plainBlocks(bs []slackgo.Block) []any {
	out := make([]any, len(bs))
	for i, b := range bs {
		switch b := b.(type) {
		case *slackgo.ActionBlock:
			a := actionBlockJSON{Type: b.Type, BlockID: b.BlockID}
			if b.Elements != nil {
				a.Elements = b.Elements.ElementSet
			}
			out[i] = a
		case *slackgo.ContextBlock:
			out[i] = contextBlockJSON{Type: b.Type, BlockID: b.BlockID, Elements: b.ContextElements.Elements}
		default:
			out[i] = b
		}
	}
	return out
}

// marshalAnswer encodes an acknowledgement body as json.Marshal does.
func marshalAnswer(v any) ([]byte, error) {
	m, ok := v.(*slackgo.WebhookMessage)
	if !ok || m.Blocks == nil || len(m.Blocks.BlockSet) == 0 {
		// Non-nil empty Blocks encode as null, which omitempty on a
		// slice would drop: leave those to slack-go.
		return json.Marshal(v)
	}
	return json.Marshal(webhookJSON{
		Username: m.Username, IconEmoji: m.IconEmoji, IconURL: m.IconURL, Channel: m.Channel,
		ThreadTimestamp: m.ThreadTimestamp, Text: m.Text, Attachments: m.Attachments, Parse: m.Parse,
		Blocks: plainBlocks(m.Blocks.BlockSet), ResponseType: m.ResponseType, ReplaceOriginal: m.ReplaceOriginal,
		DeleteOriginal: m.DeleteOriginal, ReplyBroadcast: m.ReplyBroadcast, UnfurlLinks: m.UnfurlLinks,
		UnfurlMedia: m.UnfurlMedia,
	})
}
