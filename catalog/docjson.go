package catalog

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// The document of every entity of a sync is encoded to be hashed into its
// etag (Entity.Document), and encoding/json spent most of that time
// walking the spec's and labels' maps by reflection. These append the
// same bytes for the types an entity holds, and leave the rest to
// json.Marshal. TestDocumentMatchesMarshal holds them to json.Marshal.

// appendNamedMetadata appends m's named fields as json.Marshal encodes
// metadataJSON(m).
func appendNamedMetadata(b []byte, m *Metadata) []byte {
	b = append(b, `{"name":`...)
	b = AppendJSONString(b, m.Name)
	b = appendOmitEmpty(b, `,"namespace":`, m.Namespace)
	b = appendOmitEmpty(b, `,"title":`, m.Title)
	b = appendOmitEmpty(b, `,"description":`, m.Description)
	if len(m.Labels) > 0 {
		b = appendStringMap(append(b, `,"labels":`...), m.Labels)
	}
	if len(m.Annotations) > 0 {
		b = appendStringMap(append(b, `,"annotations":`...), m.Annotations)
	}
	if len(m.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range m.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, t)
		}
		b = append(b, ']')
	}
	if len(m.Links) > 0 {
		b = append(b, `,"links":[`...)
		for i, l := range m.Links {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"url":`...)
			b = AppendJSONString(b, l.URL)
			b = appendOmitEmpty(b, `,"title":`, l.Title)
			b = appendOmitEmpty(b, `,"icon":`, l.Icon)
			b = appendOmitEmpty(b, `,"type":`, l.Type)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendOmitEmpty(b, `,"uid":`, m.UID)
	b = appendOmitEmpty(b, `,"etag":`, m.Etag)
	return append(b, '}')
}

// appendOmitEmpty appends member, then s, unless s is empty.
func appendOmitEmpty(b []byte, member, s string) []byte {
	if s == "" {
		return b
	}
	return AppendJSONString(append(b, member...), s)
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendJSONString(b, k), ':')
		b = AppendJSONString(b, m[k])
	}
	return append(b, '}')
}

// maxValueDepth bounds appendValue's recursion; deeper values, which no
// descriptor has (MaxDepth), and cycles, which json.Marshal reports, are
// left to json.Marshal.
const maxValueDepth = 2 * MaxDepth

// appendValue appends v as json.Marshal encodes it. ok is false when v
// holds something json.Marshal would fail on or that is nested deeper
// than maxValueDepth; b is then not to be used.
func appendValue(b []byte, v any, depth int) (_ []byte, ok bool) {
	if depth > maxValueDepth {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return AppendJSONString(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case float64:
		return appendFloat(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, el := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendValue(b, el, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '{')
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json sorts by strings.Compare
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(AppendJSONString(b, k), ':')
			if b, ok = appendValue(b, x[k], depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, false
	}
	return append(b, enc...), true
}

// appendFloat is encoding/json's floatEncoder for float64: ES6 number
// formatting, and false for NaN and infinities, which JSON lacks.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
