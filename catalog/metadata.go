package catalog

import "encoding/json"

// metadataFields are the metadata keys with a Metadata field of their own;
// any other key goes to Metadata.Extra.
var metadataFields = map[string]bool{
	"name": true, "namespace": true, "title": true, "description": true,
	"labels": true, "annotations": true, "tags": true, "links": true,
	"uid": true, "etag": true,
}

// metadataJSON has Metadata's fields without its methods, so the methods
// below can use the default encoding for the named fields.
type metadataJSON Metadata

// MarshalJSON encodes m with its Extra fields inline, as Backstage's API
// returns unknown metadata fields. Keys come out sorted, so the encoding
// is deterministic.
func (m Metadata) MarshalJSON() ([]byte, error) {
	named, err := json.Marshal(metadataJSON(m))
	if err != nil || len(m.Extra) == 0 {
		return named, err
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
