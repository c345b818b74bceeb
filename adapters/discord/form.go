package discord

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/commands"
)

// A commands.Form becomes one or more modals: a modal holds at most
// maxModalInputs text inputs and nothing else in discordgo v0.29, so every
// input is a text input (selects and checkboxes with a hint saying what
// to type), and longer forms are split into parts, each opened by a
// "Continue" button, because Discord cannot answer a modal with a modal.
// What was typed is kept in the stash between parts and after errors.

// openForm is a form being filled in, kept in the stash under its key.
type openForm struct {
	Form   commands.Form       `json:"form"`
	Values map[string][]string `json:"values"` // by Input.Name, what was typed
	// Complete is set once every part was submitted: a part reopened to
	// fix an error then submits the whole form again.
	Complete bool `json:"complete,omitempty"`
}

func (f *openForm) parts() int {
	n := (len(f.Form.Inputs) + maxModalInputs - 1) / maxModalInputs
	return max(n, 1)
}

// partInputs returns the inputs shown in part p.
func (f *openForm) partInputs(p int) []commands.Input {
	lo := p * maxModalInputs
	hi := min(lo+maxModalInputs, len(f.Form.Inputs))
	if lo >= hi {
		return nil
	}
	return f.Form.Inputs[lo:hi]
}

// partOf returns the part that shows the input named name, or 0.
func (f *openForm) partOf(name string) int {
	for i, in := range f.Form.Inputs {
		if in.Name == name {
			return i / maxModalInputs
		}
	}
	return 0
}

func (s *stash) saveForm(key string, f *openForm) {
	b, _ := json.Marshal(f) // strings, ints and bools always marshal
	s.set(key, b, formLifetime)
}

func (s *stash) loadForm(key string) (*openForm, bool) {
	b, ok := s.get(key)
	if !ok {
		return nil, false
	}
	var f openForm
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, false
	}
	if f.Values == nil {
		f.Values = map[string][]string{}
	}
	return &f, true
}

// newForm stashes f and returns its key.
func (s *stash) newForm(f commands.Form) string {
	key := newKey()
	s.saveForm(key, &openForm{Form: f, Values: map[string][]string{}})
	return key
}

// modal renders part p of the form stashed under key, prefilled with what
// was typed before, or the inputs' defaults.
func modal(key string, f *openForm, p int) *discordgo.InteractionResponseData {
	title := f.Form.Title
	if title == "" {
		title = "Form"
	}
	if n := f.parts(); n > 1 || f.Form.Steps > 1 {
		title = truncate(title, maxModalTitle-8) + " " + progress(f, p)
	}
	d := &discordgo.InteractionResponseData{
		CustomID: formID('m', key, p),
		Title:    truncate(title, maxModalTitle),
	}
	for i, in := range f.partInputs(p) {
		ti := discordgo.TextInput{
			CustomID:    fmt.Sprintf("i%d", i),
			Label:       truncate(orDash(in.Label), maxInputLabel),
			Style:       discordgo.TextInputShort,
			Placeholder: truncate(placeholder(in), maxInputHolder),
			Required:    in.Required,
		}
		if in.Kind == commands.InputMultiline {
			ti.Style = discordgo.TextInputParagraph
		}
		if in.MinLength > 0 && in.MinLength <= maxInputValue && textual(in.Kind) {
			ti.MinLength = in.MinLength
		}
		if in.MaxLength > 0 && in.MaxLength <= maxInputValue && textual(in.Kind) {
			ti.MaxLength = in.MaxLength
		}
		vals, typed := f.Values[in.Name]
		if !typed {
			vals = in.Default
		}
		ti.Value = truncate(strings.Join(displayValues(in, vals), ", "), maxInputValue)
		if ti.MaxLength > 0 && len([]rune(ti.Value)) > ti.MaxLength {
			ti.Value = "" // Discord rejects a modal whose value breaks its own bound.
		}
		d.Components = append(d.Components, discordgo.ActionsRow{Components: []discordgo.MessageComponent{ti}})
	}
	return d
}

func progress(f *openForm, p int) string {
	if f.parts() > 1 {
		return fmt.Sprintf("(%d/%d)", p+1, f.parts())
	}
	return fmt.Sprintf("(%d/%d)", f.Form.Step, f.Form.Steps)
}

func textual(k commands.InputKind) bool {
	return k == commands.InputText || k == commands.InputMultiline || k == ""
}

// placeholder says what to type where a modal cannot show the real
// control.
func placeholder(in commands.Input) string {
	switch in.Kind {
	case commands.InputCheckbox:
		return "yes or no"
	case commands.InputSelect:
		return "one of: " + optionList(in.Options)
	case commands.InputMultiSelect:
		return "comma-separated, from: " + optionList(in.Options)
	case commands.InputNumber:
		return firstNonEmpty(in.Placeholder, in.Hint, "a number")
	case commands.InputInteger:
		return firstNonEmpty(in.Placeholder, in.Hint, "a whole number")
	case commands.InputExternalSelect:
		return firstNonEmpty(in.Placeholder, in.Hint, "a catalog entity, e.g. group:default/team-a")
	}
	return firstNonEmpty(in.Placeholder, in.Hint)
}

func optionList(opts []commands.Option) string {
	labels := make([]string, 0, len(opts))
	for _, o := range opts {
		labels = append(labels, firstNonEmpty(o.Label, o.Value))
	}
	return strings.Join(labels, ", ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// displayValues shows stored values the way a person would type them:
// option labels rather than values, yes/no for checkboxes.
func displayValues(in commands.Input, vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		switch in.Kind {
		case commands.InputCheckbox:
			if v == "true" {
				v = "yes"
			} else if v == "false" {
				v = "no"
			}
		case commands.InputSelect, commands.InputMultiSelect:
			for _, o := range in.Options {
				if o.Value == v && o.Label != "" {
					v = o.Label
					break
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// readModal records the values submitted for part p into f. Inputs are
// matched by position (custom ids i0..i4), never by a name the client
// could choose.
func readModal(f *openForm, p int, data discordgo.ModalSubmitInteractionData) {
	typed := map[string]string{}
	for _, c := range data.Components {
		row, ok := c.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, rc := range row.Components {
			if ti, ok := rc.(*discordgo.TextInput); ok {
				typed[ti.CustomID] = ti.Value
			}
		}
	}
	for i, in := range f.partInputs(p) {
		raw, ok := typed[fmt.Sprintf("i%d", i)]
		if !ok {
			continue
		}
		vals := parseInput(in, raw)
		if len(vals) == 0 {
			delete(f.Values, in.Name)
			continue
		}
		f.Values[in.Name] = vals
	}
}

// parseInput turns typed text into the values commands.Submission
// expects; text it cannot map is passed on as typed, for the engine's
// validation to report next to the field.
func parseInput(in commands.Input, raw string) []string {
	if in.Kind != commands.InputMultiline {
		raw = strings.TrimSpace(raw)
	}
	if raw == "" {
		return nil
	}
	switch in.Kind {
	case commands.InputCheckbox:
		switch strings.ToLower(raw) {
		case "yes", "y", "true", "on", "1", "x":
			return []string{"true"}
		case "no", "n", "false", "off", "0":
			return []string{"false"}
		}
	case commands.InputSelect:
		return []string{matchOption(in.Options, raw)}
	case commands.InputMultiSelect:
		var out []string
		for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == '\n' }) {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, matchOption(in.Options, part))
			}
		}
		return out
	}
	return []string{raw}
}

func matchOption(opts []commands.Option, typed string) string {
	for _, o := range opts {
		if strings.EqualFold(o.Value, typed) || strings.EqualFold(o.Label, typed) {
			return o.Value
		}
	}
	return typed
}

// submission builds the commands.Submission of a completed form. Its Key
// is the same for a retried or double-clicked submission of the same
// values, so the engine launches once.
func submission(key string, f *openForm) *commands.Submission {
	names := make([]string, 0, len(f.Values))
	for n := range f.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	h.Write([]byte(key))
	for _, n := range names {
		fmt.Fprintf(h, "\x00%q=%q", n, f.Values[n])
	}
	vals := make(map[string][]string, len(f.Values))
	for k, v := range f.Values {
		vals[k] = append([]string(nil), v...)
	}
	return &commands.Submission{
		State:  f.Form.State,
		Values: vals,
		Key:    "discord:" + hex.EncodeToString(h.Sum(nil)[:16]),
	}
}

// fieldErrorsEmbed lists errors by field, labelled as the form labels
// them when f is known.
func fieldErrorsEmbed(errs map[string]string, f *openForm) *discordgo.MessageEmbed {
	labels := map[string]string{}
	order := map[string]int{}
	if f != nil {
		for i, in := range f.Form.Inputs {
			labels[in.Name], order[in.Name] = in.Label, i
		}
	}
	names := make([]string, 0, len(errs))
	for n := range errs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		oi, iok := order[names[i]]
		oj, jok := order[names[j]]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return names[i] < names[j]
	})
	e := &discordgo.MessageEmbed{Title: "Please fix these fields"}
	for _, n := range names {
		if len(e.Fields) == maxEmbedFields {
			break
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{
			Name:  truncate(orDash(firstNonEmpty(labels[n], n)), maxFieldName),
			Value: truncate(escape(orDash(errs[n])), maxFieldValue),
		})
	}
	return e
}

// fieldErrorsMessage answers a submission with errors: the errors, and a
// button reopening the form, prefilled with what was typed, at the part
// holding the first bad field.
func fieldErrorsMessage(key string, f *openForm, errs map[string]string) *discordgo.MessageSend {
	first := len(f.Form.Inputs)
	for i, in := range f.Form.Inputs {
		if _, bad := errs[in.Name]; bad && i < first {
			first = i
		}
	}
	part := 0
	if first < len(f.Form.Inputs) {
		part = first / maxModalInputs
	}
	return &discordgo.MessageSend{
		Embeds: []*discordgo.MessageEmbed{fieldErrorsEmbed(errs, f)},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Edit and resubmit", Style: discordgo.PrimaryButton, CustomID: formID('o', key, part)},
		}}},
		AllowedMentions: noMentions(),
	}
}

// continueMessage offers the button that opens part p of a form, where a
// modal cannot be opened directly (after a modal, from a message
// command, after a deferred answer).
func continueMessage(key string, f *openForm, p int, note string) *discordgo.MessageSend {
	e := &discordgo.MessageEmbed{Title: truncate(escapeTitle(orDash(f.Form.Title)), maxEmbedTitle)}
	desc := note
	if p == 0 && f.Form.Intro != "" {
		desc = strings.TrimSpace(escape(f.Form.Intro) + "\n\n" + note)
	}
	e.Description = truncate(desc, maxEmbedDescription)
	label := "Open the form"
	if p > 0 {
		label = fmt.Sprintf("Continue (%d/%d)", p+1, f.parts())
	}
	return &discordgo.MessageSend{
		Embeds: []*discordgo.MessageEmbed{e},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: label, Style: discordgo.PrimaryButton, CustomID: formID('o', key, p)},
		}}},
		AllowedMentions: noMentions(),
	}
}
