package scaffolder

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// The review shown after the last step, before anything is launched.

// secretShown stands for a secret value on the review form.
const secretShown = "(secret, not shown)"

// reviewEdit is the review form's one input: ticked, the submission
// reopens the first step with the values given so far.
const reviewEdit = "edit"

// review returns the form shown after the last step: the values as the
// template will receive them (secrets named, not shown), launched by
// submitting it.
func (s *Service) review(ctx context.Context, t *template, st formState) (commands.Reply, error) {
	if err := s.revalidate(ctx, t, st); err != nil {
		return commands.Reply{}, err
	}
	st.Review = true
	state, err := s.states.encode(st, s.now())
	if err != nil {
		return commands.Reply{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s will receive these values:", t.Title)
	shown := cloneMap(st.Values)
	for _, f := range allFields(t, st.Values) {
		if _, ok := lookup(shown, f.Path); ok && f.Secret {
			set(shown, f.Path, secretShown)
		}
	}
	for _, k := range sortedKeys(shown) {
		fmt.Fprintf(&b, "\n• %s: %s", k, abbrevN(reviewValue(shown[k]), 300))
	}
	for _, k := range sortedKeysS(st.Secrets) {
		fmt.Fprintf(&b, "\n• %s: %s", k, secretShown)
	}
	if len(st.Values)+len(st.Secrets) == 0 {
		b.WriteString(" none.")
	}
	b.WriteString("\nSubmit to launch it, or tick the box to change them first.")
	f := &commands.Form{
		Action: commands.ActionTemplateSubmit, Title: "Review: " + t.Title, SubmitLabel: "Launch", State: state,
		Intro: b.String(),
		Inputs: []commands.Input{{
			Name: reviewEdit, Label: "Change something first", Kind: commands.InputCheckbox, Default: []string{"false"},
			Hint: "Tick to go back to the first step with these values.",
		}},
	}
	return commands.Reply{Form: f}, nil
}

// reviewValue prints a value as the template receives it: text as is,
// anything else as JSON.
func reviewValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
