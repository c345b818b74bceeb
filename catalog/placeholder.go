package catalog

// Placeholder kinds Backstage's PlaceholderProcessor resolves at processing
// time (PLATFORM.md: "$text, $json, $yaml placeholders pull file contents
// in"), e.g. spec.definition: {$text: ./openapi.yaml}.
const (
	PlaceholderText = "$text"
	PlaceholderJSON = "$json"
	PlaceholderYAML = "$yaml"
)

// Placeholder reports whether v is a placeholder: a mapping with exactly
// one key, $text, $json or $yaml, whose value is a non-empty string (the
// path or URL to read). Like Backstage, other one-key "$..." mappings are
// left alone as plain data.
func Placeholder(v any) (key, target string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	for k, x := range m {
		s, isStr := x.(string)
		if !isStr || s == "" {
			return "", "", false
		}
		switch k {
		case PlaceholderText, PlaceholderJSON, PlaceholderYAML:
			return k, s, true
		}
	}
	return "", "", false
}
