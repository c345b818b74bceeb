package scaffolder

import (
	"strings"
	"testing"
)

func TestDescribePattern(t *testing.T) {
	tests := []struct{ in, want string }{
		{`^[a-z0-9-]+$`, "Use only lowercase letters, digits and -."},
		{`^[a-z][a-z0-9-]*$`, "Use only lowercase letters, digits and -."},
		{`^[A-Za-z0-9_.]{3,20}$`, "Use only letters, digits, . and _, from 3 to 20 characters."},
		{`^\w+$`, "Use only letters, digits and _."},
		{`^[A-Z]{2,}$`, "Use only uppercase letters, at least 2 characters."},
		{`^svc-[a-z]+$`, ""},
		{`^[a-f0-9]+$`, ""},
		{`^[0-9]{4}$`, "Use only digits, exactly 4 characters."},
		{`^(foo|bar)-[0-9]+$`, ""},
		{`^[^/]+$`, ""},
	}
	for _, tt := range tests {
		if got := describePattern(tt.in); got != tt.want {
			t.Errorf("describePattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPatternMessageInWords checks a failed pattern says what to type,
// not the regular expression.
func TestPatternMessageInWords(t *testing.T) {
	sch, err := compileSchema(map[string]any{"type": "object", "properties": map[string]any{
		"name": map[string]any{"type": "string", "pattern": "^[a-z0-9-]+$"},
		"code": map[string]any{"type": "string", "pattern": "^(foo|bar)-[0-9]+$"},
		"n":    map[string]any{"type": "integer"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := schemaErrors(sch, map[string]any{"name": "Not OK", "code": "baz", "n": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := errs["name"], "Use only lowercase letters, digits and -."; got != want {
		t.Errorf("name error = %q, want %q", got, want)
	}
	if got, want := errs["n"], "Must be a whole number."; got != want {
		t.Errorf("n error = %q, want %q", got, want)
	}
	if got := errs["code"]; strings.Contains(got, "^") || !strings.HasSuffix(got, ".") || got == "" {
		t.Errorf("code error = %q, want words without the raw pattern", got)
	}
}

func TestHintsAreSentences(t *testing.T) {
	f := newField([]string{"name"}, "Name", map[string]any{"type": "string", "ui:field": "EntityNamePicker", "description": "Unique name of the component"}, true, true)
	in := f.Inputs(nil, nil, "")[0]
	want := "Unique name of the component. Needed only for some answers. Use letters, digits, hyphens, underscores and dots, up to 63 characters."
	if in.Hint != want {
		t.Errorf("hint = %q, want %q", in.Hint, want)
	}
}
