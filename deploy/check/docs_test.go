package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml3 "go.yaml.in/yaml/v3"
)

// freeForm are the values whose insides are Kubernetes or portalbot
// objects documented elsewhere; the README names them, not their keys.
var freeForm = map[string]bool{
	"config": true, "podSecurityContext": true, "securityContext": true, "resources": true,
	"readinessProbe": true, "livenessProbe": true, "podAnnotations": true, "podLabels": true,
	"nodeSelector": true, "affinity": true, "ingress.annotations": true,
}

// valuePaths returns the dotted paths of the values in a mapping node,
// descending into maps that are not free-form.
func valuePaths(prefix string, n *yaml3.Node) []string {
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := prefix + k.Value
		if v.Kind == yaml3.MappingNode && len(v.Content) > 0 && !freeForm[p] {
			out = append(out, valuePaths(p+".", v)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestValuesDocumented: every value is in the README's Helm section, and
// every top-level value in values.yaml has a comment (its own, or that of
// the value on the line just above it).
func TestValuesDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml3.Node
	if err := yaml3.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### Helm\n")
	if !ok {
		t.Fatal("README.md has no ### Helm section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, p := range valuePaths("", root) {
		if !strings.Contains(section, "`"+p+"`") {
			t.Errorf("value %s is not in README.md's Helm section (as `%s`)", p, p)
		}
	}
	commented := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		adjacent := i > 0 && k.Line == root.Content[i-2].Line+1
		commented = k.HeadComment != "" || (adjacent && commented)
		if !commented {
			t.Errorf("values.yaml line %d: %s has no comment", k.Line, k.Value)
		}
	}
}
