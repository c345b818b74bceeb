package scaffolder

import (
	"fmt"
	"strings"
)

// maxRenderedBytes bounds one rendered string, so a template cannot make
// the bot build huge values.
const maxRenderedBytes = 1 << 20

// renderString replaces every ${{ expr }} in s. A string that is exactly one
// expression keeps the expression's type (a list stays a list), as in
// Backstage; otherwise values are printed into the text.
func renderString(s string, scope exprScope) (any, error) {
	trimmed := strings.TrimSpace(s)
	if strings.HasPrefix(trimmed, "${{") && strings.HasSuffix(trimmed, "}}") && strings.Count(trimmed, "${{") == 1 {
		return eval(trimmed[3:len(trimmed)-2], scope)
	}
	if !strings.Contains(s, "${{") {
		return s, nil
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		j := strings.Index(rest[i+3:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unterminated ${{ in %q", abbrev(rest[i:]))
		}
		v, err := eval(rest[i+3:i+3+j], scope)
		if err != nil {
			return nil, err
		}
		b.WriteString(toString(v))
		if b.Len() > maxRenderedBytes {
			return nil, fmt.Errorf("rendered text larger than %d bytes", maxRenderedBytes)
		}
		rest = rest[i+3+j+2:]
	}
	return b.String(), nil
}

// renderText is renderString that always returns text.
func renderText(s string, scope exprScope) (string, error) {
	v, err := renderString(s, scope)
	if err != nil {
		return "", err
	}
	return toString(v), nil
}

// renderValue renders every string inside v (maps and lists included),
// returning a new value; v is not modified.
func renderValue(v any, scope exprScope) (any, error) {
	switch x := v.(type) {
	case string:
		return renderString(x, scope)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderValue(e, scope)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderValue(e, scope)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}
