package catalog

import "encoding/json"

// metadataFields are the metadata keys with a Metadata field of their own;
// any other key goes to Metadata.Extra.
var metadataFields = map[string]bool{
	"name": true, "namespace": true, "title": true, "description": true,
	"labels": true, "annotations": true, "tags": true, "links": true,
	"uid": true, "etag": true,
}

// metadataJSON has Metadata's fields without its methods, so that
// UnmarshalJSON can use the default decoding for the named fields.
type metadataJSON Metadata

// MarshalJSON encodes m with its Extra fields inline, as Backstage's API
// returns unknown metadata fields. Keys come out sorted, so the encoding
// is deterministic. The named fields are encoded as encoding/json encodes
// the struct (appendNamedMetadata).
func (m Metadata) MarshalJSON() ([]byte, error) {
	named := appendNamedMetadata(nil, &m)
	if len(m.Extra) == 0 {
		return named, nil
	}
	all := make(map[string]json.RawMessage, len(m.Extra)+8)
	if err := json.Unmarshal(named, &all); err != nil {
		return nil, err
	}
	for k, v := range m.Extra {
		if metadataFields[k] {
			continue // a named field wins; Extra never shadows it
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		all[k] = raw
	}
	return json.Marshal(all)
}

// UnmarshalJSON decodes the named fields and keeps every other key in Extra.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	var named metadataJSON
	if err := json.Unmarshal(data, &named); err != nil {
		return err
	}
	if onlyNamedKeys(data) {
		// Nearly every entity: no other key to look for (issue 19,
		// every owner command reads an entity from the store).
		*m = Metadata(named)
		return nil
	}
	// The other keys, found without decoding the named fields' values a
	// second time (labels, annotations and links into maps of their own:
	// half the cost of reading an entity, on every owner command that
	// reads one from the store).
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*m = Metadata(named)
	for k, v := range raw {
		if metadataFields[k] {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		if m.Extra == nil {
			m.Extra = map[string]any{}
		}
		m.Extra[k] = x
	}
	return nil
}

// onlyNamedKeys reports whether data, a JSON value that decoded without
// error, is null or an object whose keys are all metadataFields written
// without escapes, so that decoding the named fields is all there is to
// do. It reads the keys without decoding any value; anything it is not
// sure of is reported false, for the full decoding to decide.
func onlyNamedKeys(data []byte) bool {
	i := skipSpace(data, 0)
	if i < len(data) && data[i] == 'n' {
		return true // null
	}
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) {
			return false
		}
		if data[i] == '}' {
			return true
		}
		if data[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(data) && data[j] != '"' && data[j] != '\\' {
			j++
		}
		if j >= len(data) || data[j] != '"' || !metadataFields[string(data[i+1:j])] {
			return false
		}
		i = skipSpace(data, j+1)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		var ok bool
		if i, ok = skipValue(data, skipSpace(data, i+1)); !ok {
			return false
		}
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i++
		}
	}
}

// skipSpace returns the index of the first byte of data at or after i
// that is not JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just after the JSON value starting at i.
func skipValue(data []byte, i int) (int, bool) {
	depth := 0
	for i < len(data) {
		c := data[i]
		switch c {
		case '"':
			i++
			for i < len(data) && data[i] != '"' {
				if data[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(data) {
				return i, false
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i, true // the end of the enclosing object
			}
			depth--
			i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
			i++
		default:
			i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return i, true
		}
	}
	return i, depth == 0
}
