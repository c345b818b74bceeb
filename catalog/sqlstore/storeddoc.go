package sqlstore

import (
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// An entity with a string spec.definition is stored with the definition
// moved out of its document and with its uid and etag in it: json.Marshal
// of the entity so changed. The entity's stamped document (its Document,
// which has the definition and lacks uid and etag) already holds every
// other byte of that encoding, so definitionMoved cuts and splices it
// rather than encode the entity again: a third of a catalog's entities
// are APIs, and encoding them was half of Prepare's time.
// TestDefinitionMovedMatchesMarshal holds it to json.Marshal.

// definitionMoved returns doc, an entity's document as Entity.Document
// encodes it, as json.Marshal encodes that entity with uid and etag set
// and without spec.definition, which must be a string. ok is false when
// doc does not have the shape this relies on: metadata without extra
// fields (whose keys json.Marshal sorts among uid and etag), a spec left
// with other fields (an empty one is omitted), the members in the order
// Entity declares them. The caller then encodes the entity itself.
func definitionMoved(doc []byte, uid, etag string) (string, bool) {
	const prefix = `{"apiVersion":`
	if !strings.HasPrefix(string(doc), prefix) {
		return "", false
	}
	meta, ok := member(doc, 0, "metadata")
	if !ok || doc[meta.value] != '{' || meta.end-meta.value < 3 {
		return "", false
	}
	spec, ok := member(doc, 0, "spec")
	if !ok || spec.start < meta.end || doc[spec.value] != '{' {
		return "", false
	}
	def, ok := member(doc, spec.value, "definition")
	if !ok || doc[def.value] != '"' {
		return "", false
	}
	// The definition's member and one comma beside it go; a definition
	// alone in spec would leave it empty, and omitted.
	cut0, cut1 := def.start, def.end
	switch {
	case doc[def.end] == ',':
		cut1++
	case doc[def.start-1] == ',':
		cut0--
	default:
		return "", false
	}
	var b strings.Builder
	b.Grow(len(doc) - (cut1 - cut0) + len(`,"uid":"","etag":""`) + len(uid) + len(etag))
	b.Write(doc[:meta.end-1])
	b.WriteString(`,"uid":`)
	writeJSONString(&b, uid)
	b.WriteString(`,"etag":`)
	writeJSONString(&b, etag)
	b.Write(doc[meta.end-1 : cut0])
	b.Write(doc[cut1:])
	return b.String(), true
}

// span locates one member, "key":value, of a JSON object: start is the
// index of the key's opening quote, value that of the value's first byte,
// end the index just past the value.
type span struct{ start, value, end int }

// member finds the member named key in the object that starts at
// data[obj], as encoding/json writes objects (compact, keys written
// without escapes when they need none). ok is false when the object has
// no such member or is not well formed.
func member(data []byte, obj int, key string) (span, bool) {
	if obj >= len(data) || data[obj] != '{' {
		return span{}, false
	}
	i := obj + 1
	if i < len(data) && data[i] == '}' {
		return span{}, false
	}
	for i < len(data) && data[i] == '"' {
		k := skipJSON(data, i)
		if k < 0 || k >= len(data) || data[k] != ':' {
			return span{}, false
		}
		end := skipJSON(data, k+1)
		if end < 0 || end >= len(data) {
			return span{}, false
		}
		if string(data[i+1:k-1]) == key {
			return span{i, k + 1, end}, true
		}
		if data[end] != ',' {
			return span{}, false
		}
		i = end + 1
	}
	return span{}, false
}

// skipJSON returns the index just past the compact JSON value that starts
// at data[i], or -1 when it does not end.
func skipJSON(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		for i++; i < len(data); i++ {
			switch data[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				j := skipJSON(data, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for i < len(data) && data[i] != ',' && data[i] != '}' && data[i] != ']' {
		i++
	}
	return i
}

// writeJSONString writes s as json.Marshal encodes a string.
func writeJSONString(b *strings.Builder, s string) {
	var buf [64]byte // a uid, an etag or a tag fit
	b.Write(catalog.AppendJSONString(buf[:0], s))
}
