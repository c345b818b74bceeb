package scaffolder

import (
	"errors"
	"io"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template values are data: a value pasted into a skeleton's YAML file
// must not add a document, a key or an item to it (issue 14: a description
// holding "\n---\n" and a User descriptor registered that User, which then
// passed a template's group permission check). Backstage renders skeletons
// as text, so the built-in runner keeps doing so, then compares the
// rendered file's shape with the skeleton's.

// exprRE matches one ${{ }} expression, across lines.
var exprRE = regexp.MustCompile(`(?s)\$\{\{.*?\}\}`)

// exprMark stands for an expression when the skeleton is read as YAML: a
// plain scalar in any context, unlikely in a real file.
const exprMark = "portalbot0value0"

// isYAMLFile reports whether a skeleton file is YAML by its name.
func isYAMLFile(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")
}

// checkYAMLShape returns an error when rendered, the rendering of the YAML
// skeleton text skel, has other documents, keys or items than skel: each
// expression may only fill the scalar it stands in (a whole-scalar one may
// also become a one-line flow list or mapping, as "| dump" writes). A
// skeleton that is not YAML even with its expressions replaced is not
// checked: it is some other text with a .yaml name (a Helm template).
func checkYAMLShape(skel, rendered string) error {
	if !strings.Contains(skel, "${{") {
		return nil
	}
	want, err := yamlDocs(exprRE.ReplaceAllString(skel, exprMark))
	if err != nil {
		return nil
	}
	got, err := yamlDocs(rendered)
	if err != nil {
		return errors.New("a value makes it invalid YAML (" + strings.TrimPrefix(err.Error(), "yaml: ") + "); quote values with | dump")
	}
	if len(got) != len(want) || !sameShape(want, got) {
		return errors.New("a value changes its YAML structure (adds a document, key or item); values are data: quote them with | dump")
	}
	return nil
}

// yamlDocs decodes every non-empty document of s.
func yamlDocs(s string) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(s))
	var docs []*yaml.Node
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(d.Content) > 0 && !(d.Content[0].Kind == yaml.ScalarNode && d.Content[0].ShortTag() == "!!null" && d.Content[0].Value == "") {
			docs = append(docs, d.Content[0])
		}
	}
}

// sameShape compares skeleton nodes want with rendered nodes got pairwise.
func sameShape(want, got []*yaml.Node) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !sameNode(want[i], got[i]) {
			return false
		}
	}
	return true
}

func sameNode(w, g *yaml.Node) bool {
	switch w.Kind {
	case yaml.ScalarNode:
		if g.Kind == yaml.ScalarNode {
			return true
		}
		// "${{ values.tags | dump }}" is a flow list once rendered; a value
		// with line breaks that becomes a block mapping is not.
		whole := strings.TrimSpace(w.Value) == exprMark
		return whole && (g.Kind == yaml.SequenceNode || g.Kind == yaml.MappingNode) && g.Style&yaml.FlowStyle != 0
	case yaml.MappingNode:
		if g.Kind != yaml.MappingNode || len(g.Content) != len(w.Content) {
			return false
		}
		for i := 0; i < len(w.Content); i += 2 {
			wk, gk := w.Content[i], g.Content[i]
			if !strings.Contains(wk.Value, exprMark) && (gk.Kind != yaml.ScalarNode || gk.Value != wk.Value) {
				return false
			}
			if !sameNode(w.Content[i+1], g.Content[i+1]) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		if g.Kind != yaml.SequenceNode || len(g.Content) != len(w.Content) {
			return false
		}
		return sameShape(w.Content, g.Content)
	}
	// Aliases and anything else: the same kind.
	return g.Kind == w.Kind
}
