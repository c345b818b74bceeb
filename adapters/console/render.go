package console

import (
	"fmt"
	"sort"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// pressable is a button or select option the console lets the user press
// by typing its number.
type pressable struct {
	label  string
	action commands.Action
}

// Render returns r as readable plain text: title, text, fields, sections,
// links, buttons (with what to type to press them), selects and forms. It
// is what `portalbot ask` prints.
func Render(r commands.Reply) string {
	text, _ := render(r, false)
	return text
}

// render also returns the numbered buttons and options, in the order
// their numbers were given. numbered is whether the reader can press them
// by number (the console's last reply); otherwise a button that runs a
// command shows only the command to type, since no number would work.
func render(r commands.Reply, numbered bool) (string, []pressable) {
	var b strings.Builder
	var press []pressable
	if r.Title != "" {
		b.WriteString(r.Title + "\n")
		b.WriteString(strings.Repeat("=", min(len([]rune(r.Title)), 72)) + "\n")
	}
	if r.Text != "" {
		b.WriteString(strings.TrimRight(r.Text, "\n") + "\n")
	}
	writeFields(&b, r.Fields, "")
	if len(r.FieldErrors) > 0 {
		b.WriteString("Please fix:\n")
		for _, k := range sortedKeys(r.FieldErrors) {
			fmt.Fprintf(&b, "  %s: %s\n", k, r.FieldErrors[k])
		}
	}
	for _, s := range r.Sections {
		b.WriteString("\n")
		if s.Title != "" {
			b.WriteString("-- " + s.Title + " --\n")
		}
		if s.Text != "" {
			b.WriteString(indent(strings.TrimRight(s.Text, "\n"), "  ") + "\n")
		}
		writeFields(&b, s.Fields, "  ")
		writeLinks(&b, s.Links, "  ")
		press = writeButtons(&b, s.Buttons, "  ", press, numbered)
	}
	if len(r.Links) > 0 {
		b.WriteString("\n")
		writeLinks(&b, r.Links, "")
	}
	if r.MoreURL != "" && !hasURL(r, r.MoreURL) {
		fmt.Fprintf(&b, "More: %s\n", r.MoreURL)
	}
	if len(r.Buttons) > 0 {
		b.WriteString("\n")
		press = writeButtons(&b, r.Buttons, "", press, numbered)
	}
	for _, s := range r.Selects {
		b.WriteString("\n")
		ph := s.Placeholder
		if ph == "" {
			ph = "Choose one"
		}
		b.WriteString(ph + ":\n")
		for _, o := range s.Options {
			press = append(press, pressable{label: o.Label, action: commands.Action{ID: s.Action, Value: o.Value, Values: []string{o.Value}}})
			line := fmt.Sprintf("  [%s] → type: %d", o.Label, len(press))
			if o.Hint != "" {
				line += "  (" + o.Hint + ")"
			}
			b.WriteString(line + "\n")
		}
	}
	if f := r.Form; f != nil {
		b.WriteString("\n")
		b.WriteString(formHeader(f))
		for _, in := range f.Inputs {
			b.WriteString("  - " + inputLine(in) + "\n")
		}
	}
	return b.String(), press
}

func writeFields(b *strings.Builder, fields []commands.Field, pad string) {
	if len(fields) == 0 {
		return
	}
	w := 0
	for _, f := range fields {
		w = max(w, len([]rune(f.Name)))
	}
	for _, f := range fields {
		name := f.Name + ":" + strings.Repeat(" ", w-len([]rune(f.Name)))
		v := f.Value
		if f.URL != "" {
			v += " <" + f.URL + ">"
		}
		lines := strings.Split(v, "\n")
		b.WriteString(pad + name + " " + lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString(pad + strings.Repeat(" ", w+2) + l + "\n")
		}
	}
}

func writeLinks(b *strings.Builder, links []commands.Link, pad string) {
	for _, l := range links {
		if l.Text == "" || l.Text == l.URL {
			fmt.Fprintf(b, "%s• %s\n", pad, l.URL)
			continue
		}
		fmt.Fprintf(b, "%s• %s: %s\n", pad, l.Text, l.URL)
	}
}

func writeButtons(b *strings.Builder, buttons []commands.Button, pad string, press []pressable, numbered bool) []pressable {
	for _, bt := range buttons {
		switch {
		case bt.URL != "" && bt.Action == "":
			fmt.Fprintf(b, "%s[%s] → %s\n", pad, bt.Text, bt.URL)
		case bt.Action == commands.ActionRun:
			press = append(press, pressable{label: bt.Text, action: commands.Action{ID: bt.Action, Value: bt.Value}})
			if numbered {
				// The banner says to type a button's number: every
				// button gets one; the command is shown too, as typing
				// it does the same.
				fmt.Fprintf(b, "%s[%s] → type: %d (or: %s)\n", pad, bt.Text, len(press), bt.Value)
			} else {
				fmt.Fprintf(b, "%s[%s] → type: %s\n", pad, bt.Text, bt.Value)
			}
		default:
			press = append(press, pressable{label: bt.Text, action: commands.Action{ID: bt.Action, Value: bt.Value}})
			fmt.Fprintf(b, "%s[%s] → type: %d\n", pad, bt.Text, len(press))
		}
	}
	return press
}

func formHeader(f *commands.Form) string {
	h := "Form: " + f.Title
	if f.Steps > 1 {
		h += fmt.Sprintf(" (step %d of %d)", max(f.Step, 1), f.Steps)
	}
	h += "\n"
	if f.Intro != "" {
		h += strings.TrimRight(f.Intro, "\n") + "\n"
	}
	return h
}

// inputLine describes one form input: label, whether it is required, its
// kind, default and hint.
func inputLine(in commands.Input) string {
	s := in.Label
	if s == "" {
		s = in.Name
	}
	if in.Required {
		s += " (required)"
	}
	var notes []string
	switch in.Kind {
	case commands.InputCheckbox:
		notes = append(notes, "yes/no")
	case commands.InputNumber, commands.InputInteger:
		notes = append(notes, string(in.Kind))
	case commands.InputMultiSelect:
		notes = append(notes, "one or more, comma-separated")
	}
	if len(in.Default) > 0 {
		notes = append(notes, "default "+strings.Join(in.Default, ", "))
	}
	if in.Hint != "" {
		notes = append(notes, in.Hint)
	}
	if len(notes) > 0 {
		s += " [" + strings.Join(notes, "; ") + "]"
	}
	return s
}

func hasURL(r commands.Reply, u string) bool {
	for _, l := range r.Links {
		if l.URL == u {
			return true
		}
	}
	for _, f := range r.Fields {
		if f.URL == u {
			return true
		}
	}
	return false
}

func indent(s, pad string) string {
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
