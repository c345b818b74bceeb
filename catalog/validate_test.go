package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

func TestIsValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"payments-api", true},
		{"Payments_API.v2", true},
		{"9lives", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-lead", false},
		{"trail.", false},
		{"has space", false},
		{"web@example.com", false},
		{"ns/name", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := catalog.IsValidName(tt.in); got != tt.want {
			t.Errorf("IsValidName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsValidNamespaceAndTag(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"default", true},
		{"team-a", true},
		{"a1-b2", true},
		{"Default", false},
		{"a_b", false},
		{"a--b", false},
		{"-a", false},
		{"a.b", false},
		{"", false},
		{strings.Repeat("x", 64), false},
	}
	for _, tt := range tests {
		if got := catalog.IsValidNamespace(tt.in); got != tt.want {
			t.Errorf("IsValidNamespace(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := catalog.IsValidTag(tt.in); got != tt.want {
			t.Errorf("IsValidTag(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	// Tags also allow ':', '+' and '#', which namespaces do not.
	for _, tag := range []string{"c++", "web:frontend", "c#", "a:b-c+d"} {
		if !catalog.IsValidTag(tag) || catalog.IsValidNamespace(tag) {
			t.Errorf("IsValidTag(%q), IsValidNamespace = %v, %v; want true, false", tag, catalog.IsValidTag(tag), catalog.IsValidNamespace(tag))
		}
	}
}

func TestIsValidLabelKey(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"tier", true},
		{"backstage.io/source-location", true},
		{"example.com/Cost_Center", true},
		{"a.b.c/x", true},
		{"Example.com/x", false},
		{"/x", false},
		{"a/", false},
		{"a/b/c", false},
		{"exa_mple.com/x", false},
		{strings.Repeat("a", 64) + ".com/x", false},
	}
	for _, tt := range tests {
		if got := catalog.IsValidLabelKey(tt.in); got != tt.want {
			t.Errorf("IsValidLabelKey(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	component := func() *catalog.Entity {
		return &catalog.Entity{
			APIVersion: catalog.APIVersionV1alpha1, Kind: catalog.KindComponent,
			Metadata: catalog.Metadata{Name: "c"},
			Spec:     map[string]any{"type": "service", "lifecycle": "production", "owner": "g"},
		}
	}
	tests := []struct {
		name   string
		change func(e *catalog.Entity)
		want   string // "" means valid
	}{
		{"valid", func(*catalog.Entity) {}, ""},
		{"v1beta1", func(e *catalog.Entity) { e.APIVersion = catalog.APIVersionV1beta1 }, ""},
		{"bad apiVersion", func(e *catalog.Entity) { e.APIVersion = "backstage.io/v1/x" }, `apiVersion: "backstage.io/v1/x" is not a valid apiVersion; expected group/version such as backstage.io/v1alpha1`},
		{"other version", func(e *catalog.Entity) { e.APIVersion = "example.com/v1" }, `apiVersion: "example.com/v1" is not a version of kind Component; use backstage.io/v1alpha1 or backstage.io/v1beta1`},
		{"no spec", func(e *catalog.Entity) { e.Spec = nil }, "spec: required"},
		{"empty type", func(e *catalog.Entity) { e.Spec["type"] = "" }, "spec.type: must not be empty"},
		{"system list", func(e *catalog.Entity) { e.Spec["system"] = []any{"a"} }, "spec.system: must be a string, not a list"},
		{"bad ref", func(e *catalog.Entity) { e.Spec["owner"] = "a:b:c" }, `spec.owner: "a:b:c" is not an entity reference [kind:][namespace/]name`},
		{"many", func(e *catalog.Entity) {
			e.Metadata.Name = ""
			e.Metadata.Tags = []string{"ok", "No"}
			delete(e.Spec, "lifecycle")
		},
			`metadata.name: required; metadata.tags.1: "No" is not a valid tag; expected 1-63 characters of [a-z0-9:+#] separated by [-]; spec.lifecycle: required`},
		{"long value truncated", func(e *catalog.Entity) { e.Metadata.Name = strings.Repeat("x", 200) },
			`metadata.name: "` + strings.Repeat("x", 80) + `"… is not a valid name; expected 1-63 characters of [A-Za-z0-9] separated by any of [-_.]`},
		{"link", func(e *catalog.Entity) { e.Metadata.Links = []catalog.Link{{URL: "https://x.example", Title: "  "}} }, "metadata.links.0.title: must not be blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := component()
			tt.change(e)
			err := e.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %T, want *ValidationError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("Validate() = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestValidateKinds(t *testing.T) {
	tests := []struct {
		kind, version string
		spec          map[string]any
		want          string
	}{
		{"API", "", map[string]any{"type": "mcp-server", "lifecycle": "x", "owner": "g", "remotes": []any{map[string]any{"type": "streamable-http", "url": "http://h/mcp"}}}, ""},
		{"API", "", map[string]any{"type": "mcp-server", "lifecycle": "x", "owner": "g", "remotes": []any{}}, "spec.remotes: must list at least one remote"},
		{"API", "", map[string]any{"type": "openapi", "lifecycle": "x", "owner": "g", "definition": map[string]any{"$text": "./a.yaml"}}, ""},
		{"API", "", map[string]any{"type": "openapi", "lifecycle": "x", "owner": "g", "definition": map[string]any{"$other": "./a.yaml"}}, "spec.definition: must be a string, not a mapping"},
		{"Group", "", map[string]any{"type": "team"}, "spec.children: required"},
		{"Group", "", map[string]any{"type": "team", "children": []any{}, "profile": map[string]any{"email": 3}}, "spec.profile.email: must be a non-empty string"},
		{"User", "", map[string]any{}, "spec.memberOf: required"},
		{"User", "", map[string]any{"memberOf": []any{}}, ""},
		{"Resource", "", map[string]any{"type": "db", "owner": "g", "dependsOn": []any{"db2"}}, `spec.dependsOn.0: "db2" must name its kind (kind:[namespace/]name)`},
		{"System", "", map[string]any{"owner": "g"}, ""},
		{"Domain", "", map[string]any{}, "spec.owner: required"},
		{"Location", "", map[string]any{"presence": "maybe"}, `spec.presence: must be "required" or "optional"`},
		{"Location", "", map[string]any{"targets": []any{"./a.yaml", ""}}, "spec.targets.1: must not be empty"},
		{"Template", catalog.APIVersionTemplate, map[string]any{"type": "service", "steps": []any{map[string]any{"action": "fetch:plain", "if": 3}}}, "spec.steps.0.if: must be a string or a boolean, not a number"},
		{"Template", catalog.APIVersionTemplate, map[string]any{"type": "service"}, "spec.steps: required"},
		{"Template", catalog.APIVersionV1alpha1, map[string]any{"type": "service", "steps": []any{}}, `apiVersion: "backstage.io/v1alpha1" is not a version of kind Template; use scaffolder.backstage.io/v1beta3`},
		{"AiResource", catalog.APIVersionV1beta1, map[string]any{"type": "skill", "lifecycle": "x", "owner": "g"}, `apiVersion: "backstage.io/v1beta1" is not a version of kind AiResource; use backstage.io/v1alpha1`},
		// Per-type AiResource schemas (found by the oracle test: Backstage
		// rejects a rule without category and rationale).
		{"AiResource", "", map[string]any{"type": "rule", "lifecycle": "x", "owner": "g"}, "spec.category: required; spec.rationale: required"},
		{"AiResource", "", map[string]any{"type": "rule", "lifecycle": "x", "owner": "g", "category": "style", "rationale": "why"}, ""},
		{"AiResource", "", map[string]any{"type": "plugin", "lifecycle": "x", "owner": "g"}, "spec.skills: required"},
		{"AiResource", "", map[string]any{"type": "marketplace", "lifecycle": "x", "owner": "g", "plugins": []any{"p"}}, ""},
		{"AiResource", "", map[string]any{"type": "skill", "lifecycle": "x", "owner": "g", "dependsOn": []any{3}}, "spec.dependsOn.0: must be a string, not a number"},
		{"AiResource", "", map[string]any{"type": "skill", "lifecycle": "x", "owner": "g", "compatibility": strings.Repeat("x", 501)}, "spec.compatibility: must be at most 500 characters"},
		{"AiResource", "", map[string]any{"type": "prompt", "lifecycle": "x", "owner": "g"}, ""},
	}
	for _, tt := range tests {
		v := tt.version
		if v == "" {
			v = catalog.APIVersionV1alpha1
		}
		e := &catalog.Entity{APIVersion: v, Kind: tt.kind, Metadata: catalog.Metadata{Name: "x"}, Spec: tt.spec}
		err := e.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Validate(%s %v) = %q, want %q", tt.kind, tt.spec, got, tt.want)
		}
	}
}
