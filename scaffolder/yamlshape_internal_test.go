package scaffolder

import (
	"strings"
	"testing"
)

func TestCheckYAMLShape(t *testing.T) {
	const skel = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\n  description: ${{ values.description }}\n  tags: ${{ values.tags | dump }}\n  title: \"The ${{ values.name }} service\"\nspec:\n  owner: ${{ values.owner }}\n"
	tests := []struct {
		name   string
		values map[string]any
		want   string // "" for accepted
	}{
		{"plain", map[string]any{"name": "svc", "description": "Pays things", "tags": []any{"go", "grpc"}, "owner": "team-a"}, ""},
		{"dumped mapping", map[string]any{"name": "svc", "description": "d", "tags": map[string]any{"a": 1}, "owner": "team-a"}, ""},
		{"comment", map[string]any{"name": "svc # x: y", "description": "d", "tags": []any{}, "owner": "team-a"}, ""},
		{"extra document", map[string]any{"name": "svc", "description": "d\n---\napiVersion: v1\nkind: User\nmetadata:\n  name: mallory", "tags": []any{}, "owner": "team-a"}, "changes its YAML structure"},
		{"extra key", map[string]any{"name": "svc", "description": "d\n  annotations: {evil: x}", "tags": []any{}, "owner": "team-a"}, "changes its YAML structure"},
		{"block mapping", map[string]any{"name": "svc", "description": "d", "tags": []any{}, "owner": "\n    evil: true"}, "changes its YAML structure"},
		{"broken", map[string]any{"name": "svc: x", "description": "d", "tags": []any{}, "owner": "team-a"}, "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := renderText(skel, exprScope{"values": tt.values})
			if err != nil {
				t.Fatal(err)
			}
			err = checkYAMLShape(skel, out)
			if got := ""; err != nil {
				got = err.Error()
				if tt.want == "" || !strings.Contains(got, tt.want) {
					t.Errorf("checkYAMLShape(%q) = %q, want %q", out, got, tt.want)
				}
			} else if tt.want != "" {
				t.Errorf("checkYAMLShape(%q) = nil, want %q", out, tt.want)
			}
		})
	}
	// Not YAML before rendering either (a Helm template): left alone.
	helm := "{{- range .Values.items }}\n- name: ${{ values.name }}\n{{- end }}\n"
	if err := checkYAMLShape(helm, strings.Replace(helm, "${{ values.name }}", "x\n---\ny: z", 1)); err != nil {
		t.Errorf("checkYAMLShape(helm template) = %v, want nil", err)
	}
}
