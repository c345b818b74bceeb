package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits on one YAML document, so that hostile input costs bounded time and
// memory. yaml.v3's node tree keeps an alias as one node pointing at its
// anchor, so the tree itself stays as small as the text; the expansion into
// Go values is what an alias bomb ("billion laughs") inflates, and that is
// where these apply.
const (
	// MaxDepth is the deepest nesting of mappings and lists accepted. Real
	// descriptors, template parameter schemas included, stay under 20.
	MaxDepth = 64
	// aliasAllowance is how many values alias expansion may add to a
	// document beyond twice its own node count.
	aliasAllowance = 100_000
)

// nodeError is a problem at one line of a document.
type nodeError struct {
	line int
	msg  string
}

func (e *nodeError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// converter turns a yaml.Node tree into plain values (map[string]any,
// []any, string, int64, float64, bool, nil), the shape encoding/json
// produces, expanding aliases within a budget; a merge key stays a key.
type converter struct {
	budget int // values still allowed; below zero is an error
	// aliasLine is the line of the outermost alias being expanded, 0 when
	// none: an alias bomb is reported where it is set off.
	aliasLine int
}

func newConverter(root *yaml.Node) *converter {
	return &converter{budget: aliasAllowance + 2*countNodes(root, 0)}
}

// countNodes counts the nodes of the tree without following aliases.
func countNodes(n *yaml.Node, depth int) int {
	if n == nil || depth > MaxDepth+1 {
		return 0
	}
	c := 1
	for _, ch := range n.Content {
		c += countNodes(ch, depth+1)
	}
	return c
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	if depth > MaxDepth {
		line := n.Line
		if c.aliasLine != 0 {
			line = c.aliasLine
		}
		return nil, &nodeError{line, fmt.Sprintf("nested more than %d levels deep", MaxDepth)}
	}
	c.budget--
	if c.budget < 0 {
		line := n.Line
		if c.aliasLine != 0 {
			line = c.aliasLine
		}
		return nil, &nodeError{line, "aliases expand to too many values (an alias bomb?)"}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &nodeError{n.Line, "alias to an unknown anchor"}
		}
		if c.aliasLine != 0 {
			return c.value(n.Alias, depth+1)
		}
		c.aliasLine = n.Line
		v, err := c.value(n.Alias, depth+1)
		c.aliasLine = 0
		return v, err
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, ch := range n.Content {
			v, err := c.value(ch, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, depth)
	}
	return nil, &nodeError{n.Line, "unsupported YAML node"}
}

func (c *converter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	if len(n.Content)%2 != 0 {
		return nil, &nodeError{n.Line, "malformed mapping"}
	}
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		// A merge key (<<: *base) is an ordinary key named "<<": Backstage
		// reads descriptors with the yaml package's merge option off
		// (plugin-catalog-node parseEntityYaml, enableYamlMerge false), so
		// merged fields are not there (checked by the oracle test).
		key, err := c.key(kn)
		if err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, &nodeError{kn.Line, fmt.Sprintf("mapping key %s already defined at line %d", quote(key), firstKeyLine(n, key))}
		}
		v, err := c.value(vn, depth+1)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

// firstKeyLine returns the line of the first key of mapping n that is
// key. Only a duplicate key asks, so the mapping's values need no map of
// their own lines.
func firstKeyLine(n *yaml.Node, key string) int {
	for i := 0; i < len(n.Content); i += 2 {
		kn := n.Content[i]
		for kn.Kind == yaml.AliasNode && kn.Alias != nil {
			kn = kn.Alias
		}
		if kn.Kind == yaml.ScalarNode && kn.Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

// key returns a mapping key as a string, as JSON would spell it.
func (c *converter) key(kn *yaml.Node) (string, error) {
	for kn.Kind == yaml.AliasNode && kn.Alias != nil {
		kn = kn.Alias
	}
	if kn.Kind != yaml.ScalarNode {
		return "", &nodeError{kn.Line, "mapping keys must be plain values, not lists or mappings"}
	}
	return kn.Value, nil
}

// scalar resolves a scalar by its tag, following YAML 1.2's core schema as
// Backstage's YAML reader does: timestamps and binary stay strings.
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		return strings.EqualFold(n.Value, "true"), nil
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return f, nil
		}
		return n.Value, nil
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			switch strings.ToLower(strings.TrimLeft(n.Value, "+-")) {
			case ".inf", ".nan":
				return nil, &nodeError{n.Line, fmt.Sprintf("%s cannot be represented in JSON", quote(n.Value))}
			}
			return n.Value, nil
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &nodeError{n.Line, fmt.Sprintf("%s cannot be represented in JSON", quote(n.Value))}
		}
		return f, nil
	}
	return n.Value, nil
}

// lineOf returns the line of the field at path in the document rooted at
// root: the line of its key, or of the deepest ancestor that exists, or of
// root itself.
func lineOf(root *yaml.Node, path []string) int {
	line := root.Line
	n := root
	for depth, seg := range path {
		if depth > MaxDepth {
			break
		}
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
			if next == nil {
				return line
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
		default:
			return line
		}
	}
	return line
}
