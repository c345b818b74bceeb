package scaffolder

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestRenderSkeletonBlocks renders a real Backstage skeleton file (from
// backstage-software-templates' react-ssr-template) whose description line
// sits in an {%- if %} block.
func TestRenderSkeletonBlocks(t *testing.T) {
	values := map[string]any{
		"component_id": "shop",
		"owner":        "group:web",
		"destination":  map[string]any{"owner": "acme", "repo": "shop"},
	}
	tests := []struct {
		description any
		want        string
	}{
		{nil, "metadata:\n  name: \"shop\"\n  annotations:\n"},
		{"The shop", "metadata:\n  name: \"shop\"\n  description: \"The shop\"\n  annotations:\n"},
	}
	for _, tt := range tests {
		values["description"] = tt.description
		dir := t.TempDir()
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		err = renderSkeleton(context.Background(), os.DirFS("testdata/skeleton-blocks"), root, ".", exprScope{"values": values}, nil, "")
		if err != nil {
			t.Fatalf("renderSkeleton(description %v): %v", tt.description, err)
		}
		got, err := os.ReadFile(dir + "/catalog-info.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), tt.want) || strings.Contains(string(got), "{%") {
			t.Errorf("renderSkeleton(description %v) =\n%s\nwant it to contain\n%s", tt.description, got, tt.want)
		}
	}
}

func TestRenderTemplate(t *testing.T) {
	scope := exprScope{"values": map[string]any{
		"name":   "pay",
		"topics": []any{"a", "b", "c"},
		"none":   []any{},
		"env":    map[string]any{"B": "2", "A": "1"},
		"kind":   "lib",
	}}
	tests := []struct{ in, want string }{
		{"{% if values.name %}n=${{ values.name }}{% endif %}", "n=pay"},
		{"{% if values.missing %}x{% else %}y{% endif %}", "y"},
		{"{% if values.kind == 'svc' %}s{% elif values.kind == 'lib' %}l{% else %}o{% endif %}", "l"},
		{"{% if values.kind == 'svc' %}s{% elseif values.kind == 'x' %}l{% endif %}.", "."},
		{"{% for t in values.topics %}${{ t }}{% if not loop.last %},{% endif %}{% endfor %}", "a,b,c"},
		{"{% for t in values.topics %}${{ loop.index }}{% endfor %}", "123"},
		{"{% for t in values.none %}x{% else %}empty{% endfor %}", "empty"},
		{"{% for k, v in values.env %}${{ k }}=${{ v }};{% endfor %}", "A=1;B=2;"},
		{"{% set greeting = 'hi ' ~ values.name %}${{ greeting }}", "hi pay"},
		{"a{# a comment #}b", "ab"},
		{"{% raw %}${{ github.sha }} {% if %}{% endraw %}", "${{ github.sha }} {% if %}"},
		{"list:\n  {%- for t in values.topics %}\n  - ${{ t }}\n  {%- endfor %}\n", "list:\n  - a\n  - b\n  - c\n"},
		{"{% if true -%}\n   x\n{%- endif %}", "x"},
		{"{% for t in values.topics %}{% for u in values.topics %}${{ t ~ u }} {% endfor %}{% endfor %}", "aa ab ac ba bb bc ca cb cc "},
		{"{% for t in values.topics %}{% set last = t %}{% endfor %}[${{ last }}]", "[]"},
	}
	for _, tt := range tests {
		got, err := renderTemplate(context.Background(), tt.in, scope)
		if err != nil {
			t.Errorf("renderTemplate(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("renderTemplate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderTemplateErrors(t *testing.T) {
	thousand := make([]any, 1000)
	scope := exprScope{"values": map[string]any{"n": thousand, "big": strings.Repeat("x", 100_000)}}
	tests := []struct{ in, want string }{
		{"{% if true %}x", "missing {% endif %}"},
		{"{% for x in values.n %}x", "missing {% endfor %}"},
		{"{% if true %}x{% endfor %}", "inside {% if %}"},
		{"{% endif %}", "unexpected {% endif %}"},
		{"{% include 'x' %}", "unsupported tag"},
		{"{% for in values.n %}{% endfor %}", "want {% for x in list %}"},
		{"{% set = 1 %}", "want {% set name = expression %}"},
		{"{% if true ", "unterminated {%"},
		{"{% raw %}x", "without {% endraw %}"},
		{"{% for a in values.n %}{% for b in values.n %}.{% endfor %}{% endfor %}", "more than 100000 steps"},
		{"{% for a in values.n %}${{ values.big }}{% endfor %}", "larger than"},
		{strings.Repeat("{% if true %}", 40) + strings.Repeat("{% endif %}", 40), "nested more than"},
	}
	for _, tt := range tests {
		_, err := renderTemplate(context.Background(), tt.in, scope)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("renderTemplate(%q) error = %v, want one containing %q", abbrev(tt.in), err, tt.want)
		}
	}
}

func TestRenderTemplateStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := renderTemplate(ctx, "{% for a in values.n %}.{% endfor %}", exprScope{"values": map[string]any{"n": []any{1.0}}})
	if err != context.Canceled {
		t.Errorf("renderTemplate with a cancelled context: error = %v, want %v", err, context.Canceled)
	}
}
