package slack

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// viewMeta travels in a modal's private_metadata: the form's opaque state
// and where the result of the submission goes. It is encoded as one line
// "channel thread response_url" (none holds a space) then the raw state,
// so the state is not inflated by escaping.
type viewMeta struct {
	State       string
	Channel     string
	Thread      string
	ResponseURL string
}

// errMetaTooLarge means a form's state does not fit in private_metadata.
var errMetaTooLarge = errors.New("slack: form state exceeds private_metadata's 3,000 characters")

// encode returns the metadata in at most maxPrivateMetadata bytes,
// dropping the response_url (the result can still be posted to the
// channel) before giving up.
func (m viewMeta) encode() (string, error) {
	clean := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for range 2 {
		s := clean(m.Channel) + " " + clean(m.Thread) + " " + clean(m.ResponseURL) + "\n" + m.State
		if len(s) <= maxPrivateMetadata {
			return s, nil
		}
		m.ResponseURL = ""
	}
	return "", errMetaTooLarge
}

func decodeMeta(s string) viewMeta {
	head, state, ok := strings.Cut(s, "\n")
	f := strings.Split(head, " ")
	if !ok || len(f) != 3 {
		// Not ours: pass it on as state for the engine to reject.
		return viewMeta{State: s}
	}
	return viewMeta{Channel: f[0], Thread: f[1], ResponseURL: f[2], State: state}
}

// modalView renders one step of a form as a Slack modal, with f.State
// and meta in its private_metadata. Block ids are the
// input names, so FieldErrors map onto them directly; an external select's
// action id is its Suggest source, which block_suggestion payloads carry.
func modalView(f commands.Form, meta viewMeta) (slackgo.ModalViewRequest, error) {
	meta.State = f.State
	md, err := meta.encode()
	if err != nil {
		return slackgo.ModalViewRequest{}, err
	}
	if len(f.Action) > maxID {
		return slackgo.ModalViewRequest{}, fmt.Errorf("slack: form action id longer than %d characters", maxID)
	}
	title := f.Title
	if title == "" {
		title = "portalbot"
	}
	submit := f.SubmitLabel
	if submit == "" {
		submit = "Submit"
		if f.Steps > 1 && f.Step < f.Steps {
			submit = "Next"
		}
	}
	var blocks []slackgo.Block
	if f.Steps > 1 {
		blocks = append(blocks, slackgo.NewContextBlock("", plain(fmt.Sprintf("Step %d of %d", f.Step, f.Steps))))
	}
	if f.Intro != "" {
		for _, chunk := range splitText(escape(f.Intro), maxSectionText) {
			blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(chunk), nil, nil))
		}
	}
	seen := map[string]bool{}
	for _, in := range f.Inputs {
		if in.Name == "" || len(in.Name) > maxID || seen[in.Name] {
			return slackgo.ModalViewRequest{}, fmt.Errorf("slack: form input name %q is empty, too long or repeated", truncate(in.Name, 40))
		}
		seen[in.Name] = true
		blocks = append(blocks, inputBlock(in))
	}
	if len(blocks) > maxModalBlocks {
		return slackgo.ModalViewRequest{}, fmt.Errorf("slack: form has %d blocks, Slack allows %d", len(blocks), maxModalBlocks)
	}
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		Title:           plain(truncate(title, maxModalTitle)),
		Submit:          plain(truncate(submit, maxModalTitle)),
		Close:           plain("Cancel"),
		Blocks:          slackgo.Blocks{BlockSet: blocks},
		PrivateMetadata: md,
		CallbackID:      f.Action,
	}, nil
}

func inputBlock(in commands.Input) *slackgo.InputBlock {
	label := in.Label
	if label == "" {
		label = in.Name
	}
	var hint, ph *slackgo.TextBlockObject
	if in.Hint != "" {
		hint = plain(truncate(in.Hint, maxLabel))
	}
	if in.Placeholder != "" {
		ph = plain(truncate(in.Placeholder, maxPlaceholder))
	}
	def := ""
	if len(in.Default) > 0 {
		def = in.Default[0]
	}
	var el slackgo.BlockElement
	optional := !in.Required
	switch in.Kind {
	case commands.InputNumber, commands.InputInteger:
		e := slackgo.NewNumberInputBlockElement(ph, in.Name, in.Kind == commands.InputNumber)
		e.InitialValue = def
		el = e
	case commands.InputCheckbox:
		// A boolean is always answered (unchecked is "false"), so the block
		// is optional whatever Required says.
		opt := slackgo.NewOptionBlockObject("true", plain(truncate(label, maxOptionText)), nil)
		e := slackgo.NewCheckboxGroupsBlockElement(in.Name, opt)
		if def == "true" {
			e.InitialOptions = []*slackgo.OptionBlockObject{opt}
		}
		el, optional = e, true
	case commands.InputSelect:
		opts := options(in.Options)
		e := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, ph, in.Name, opts...)
		e.InitialOption = findOption(opts, def)
		el = e
	case commands.InputMultiSelect:
		opts := options(in.Options)
		e := slackgo.NewOptionsMultiSelectBlockElement(slackgo.MultiOptTypeStatic, ph, in.Name, opts...)
		for _, d := range in.Default {
			if o := findOption(opts, d); o != nil {
				e.InitialOptions = append(e.InitialOptions, o)
			}
		}
		el = e
	case commands.InputExternalSelect:
		source := in.Source
		if source == "" || len(source) > maxID {
			source = in.Name
		}
		e := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeExternal, ph, source)
		zero := 0
		e.MinQueryLength = &zero
		if def != "" && len(def) <= maxOptionValue {
			e.InitialOption = slackgo.NewOptionBlockObject(def, plain(truncate(def, maxOptionText)), nil)
		}
		el = e
	default: // text, multiline, and anything unknown degrades to text
		e := slackgo.NewPlainTextInputBlockElement(ph, in.Name)
		e.Multiline = in.Kind == commands.InputMultiline
		e.InitialValue = def
		e.MinLength, e.MaxLength = in.MinLength, in.MaxLength
		el = e
	}
	b := slackgo.NewInputBlock(in.Name, plain(truncate(label, maxLabel)), hint, el)
	b.Optional = optional
	return b
}

func findOption(opts []*slackgo.OptionBlockObject, value string) *slackgo.OptionBlockObject {
	if value == "" {
		return nil
	}
	for _, o := range opts {
		if o.Value == value {
			return o
		}
	}
	return nil
}

// submission reads a submitted view's values by block id (= input name).
// A checkbox is "true" or "false"; an empty optional input is absent.
func submission(v slackgo.View) *commands.Submission {
	s := &commands.Submission{
		State:  decodeMeta(v.PrivateMetadata).State,
		Values: map[string][]string{},
		Key:    v.ID + ":" + v.Hash,
	}
	if v.State == nil {
		return s
	}
	blockIDs := make([]string, 0, len(v.State.Values))
	for id := range v.State.Values {
		blockIDs = append(blockIDs, id)
	}
	sort.Strings(blockIDs)
	for _, block := range blockIDs {
		for _, a := range v.State.Values[block] {
			if vals := actionValues(a); len(vals) > 0 {
				s.Values[block] = append(s.Values[block], vals...)
			}
		}
	}
	return s
}

// actionValues returns the values of one element of a view's state or of
// a block action.
func actionValues(a slackgo.BlockAction) []string {
	switch a.Type {
	case "checkboxes":
		for _, o := range a.SelectedOptions {
			if o.Value == "true" {
				return []string{"true"}
			}
		}
		return []string{"false"}
	case "multi_static_select", "multi_external_select":
		var out []string
		for _, o := range a.SelectedOptions {
			out = append(out, o.Value)
		}
		return out
	case "static_select", "external_select":
		if a.SelectedOption.Value != "" {
			return []string{a.SelectedOption.Value}
		}
		return nil
	case "button":
		return []string{a.Value}
	default:
		if strings.TrimSpace(a.Value) != "" {
			return []string{a.Value}
		}
		return nil
	}
}
