package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// maxExternalOptions is how many type-ahead options are listed at once.
const maxExternalOptions = 10

// fillForm asks each input of f in turn and submits the answers. While the
// engine answers with FieldErrors it asks those inputs again and resubmits.
// ok is false when the user typed "cancel" or the input ended.
func (c *Console) fillForm(ctx context.Context, f *commands.Form) (commands.Reply, bool, error) {
	c.print("\n" + formHeader(f) + "(Enter keeps a default or skips an optional field; \"cancel\" stops.)\n")
	values := map[string][]string{}
	inputs := f.Inputs
	for {
		for _, in := range inputs {
			v, ok, err := c.askInput(ctx, in)
			if err != nil || !ok {
				return commands.Reply{}, false, err
			}
			if v == nil {
				delete(values, in.Name)
			} else {
				values[in.Name] = v
			}
		}
		sub := &commands.Submission{State: f.State, Values: map[string][]string{}, Key: newKey()}
		for k, v := range values {
			sub.Values[k] = append([]string(nil), v...)
		}
		req := c.request()
		req.Action = &commands.Action{ID: f.Action, Form: sub}
		rep := c.eng.Serve(ctx, req)
		if len(rep.FieldErrors) == 0 {
			return rep, true, nil
		}
		c.print("Please fix:\n")
		var again []commands.Input
		for _, in := range f.Inputs {
			if msg, bad := rep.FieldErrors[in.Name]; bad {
				c.print(fmt.Sprintf("  %s: %s\n", labelOf(in), msg))
				again = append(again, in)
			}
		}
		if len(again) == 0 {
			// Errors about no input we showed: report them and ask everything again.
			for _, k := range sortedKeys(rep.FieldErrors) {
				c.print(fmt.Sprintf("  %s: %s\n", k, rep.FieldErrors[k]))
			}
			again = f.Inputs
		}
		inputs = again
	}
}

func labelOf(in commands.Input) string {
	if in.Label != "" {
		return in.Label
	}
	return in.Name
}

// askInput reads one input's value until it is valid. A nil value means
// an optional input left empty.
func (c *Console) askInput(ctx context.Context, in commands.Input) ([]string, bool, error) {
	opts := in.Options
	if len(opts) > 0 && (in.Kind == commands.InputSelect || in.Kind == commands.InputMultiSelect) {
		c.print(optionList(opts))
	}
	for {
		line, ok, err := c.prompt(ctx, inputLine(in)+": ")
		if err != nil || !ok {
			return nil, false, err
		}
		if strings.EqualFold(line, "cancel") {
			c.print("Cancelled.\n")
			return nil, false, nil
		}
		if line == "" {
			switch {
			case len(in.Default) > 0:
				return in.Default, true, nil
			case in.Kind == commands.InputCheckbox:
				return []string{"false"}, true, nil
			case in.Required:
				c.print("  This field is required.\n")
				continue
			}
			return nil, true, nil
		}
		v, msg := c.parseValue(ctx, in, line, &opts)
		if msg != "" {
			c.print("  " + msg + "\n")
			continue
		}
		return v, true, nil
	}
}

// parseValue turns a typed line into an input's values, or explains what
// is wrong with it.
func (c *Console) parseValue(ctx context.Context, in commands.Input, line string, opts *[]commands.Option) ([]string, string) {
	switch in.Kind {
	case commands.InputCheckbox:
		switch strings.ToLower(line) {
		case "y", "yes", "true", "1", "on":
			return []string{"true"}, ""
		case "n", "no", "false", "0", "off":
			return []string{"false"}, ""
		}
		return nil, "Answer yes or no."
	case commands.InputInteger:
		if _, err := strconv.ParseInt(line, 10, 64); err != nil {
			return nil, "Enter a whole number."
		}
		return []string{line}, ""
	case commands.InputNumber:
		if _, err := strconv.ParseFloat(line, 64); err != nil {
			return nil, "Enter a number."
		}
		return []string{line}, ""
	case commands.InputSelect:
		v, ok := pick(*opts, line)
		if !ok {
			return nil, "Choose one of the numbers or values listed."
		}
		return []string{v}, ""
	case commands.InputMultiSelect:
		var out []string
		for _, part := range strings.Split(line, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			v, ok := pick(*opts, part)
			if !ok {
				return nil, fmt.Sprintf("%q is not one of the choices listed.", part)
			}
			out = append(out, v)
		}
		return out, ""
	case commands.InputExternalSelect:
		if v, ok := pick(*opts, line); ok && len(*opts) > 0 {
			return []string{v}, ""
		}
		found := c.eng.Suggest(ctx, in.Source, line, maxExternalOptions)
		for _, o := range found {
			if strings.EqualFold(o.Value, line) || strings.EqualFold(o.Label, line) {
				return []string{o.Value}, ""
			}
		}
		if len(found) == 1 {
			c.print("  → " + found[0].Label + "\n")
			return []string{found[0].Value}, ""
		}
		*opts = found
		if len(found) == 0 {
			return nil, "Nothing matches; try fewer letters."
		}
		c.print(optionList(found))
		return nil, "Choose a number, or type more letters."
	}
	if in.Kind == commands.InputMultiline {
		line = strings.ReplaceAll(line, `\n`, "\n")
	}
	n := len([]rune(line))
	if in.MinLength > 0 && n < in.MinLength {
		return nil, fmt.Sprintf("Enter at least %d characters.", in.MinLength)
	}
	if in.MaxLength > 0 && n > in.MaxLength {
		return nil, fmt.Sprintf("Enter at most %d characters.", in.MaxLength)
	}
	return []string{line}, ""
}

// pick finds the option a typed line means: its number in the list, its
// value or its label.
func pick(opts []commands.Option, s string) (string, bool) {
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(opts) {
		return opts[n-1].Value, true
	}
	for _, o := range opts {
		if strings.EqualFold(o.Value, s) || strings.EqualFold(o.Label, s) {
			return o.Value, true
		}
	}
	return "", false
}

func optionList(opts []commands.Option) string {
	var b strings.Builder
	for i, o := range opts {
		fmt.Fprintf(&b, "  %d) %s", i+1, o.Label)
		if o.Hint != "" {
			b.WriteString(" — " + o.Hint)
		}
		b.WriteString("\n")
	}
	return b.String()
}
