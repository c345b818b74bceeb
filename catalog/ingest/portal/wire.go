package portal

import (
	"encoding/json"

	"github.com/portalbot/portalbot/catalog"
)

// wireEntity is an entity as the API serves it. Its metadata is decoded
// by decodeMetadata: catalog.Metadata's own decoder reads the block twice
// to keep unknown keys, which doubled the cost of a pull.
type wireEntity struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   json.RawMessage    `json:"metadata"`
	Spec       map[string]any     `json:"spec"`
	Relations  []catalog.Relation `json:"relations"`
}

// wireMetadata holds the metadata keys Backstage's own entities use.
type wireMetadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Tags        []string          `json:"tags"`
	Links       []catalog.Link    `json:"links"`
	UID         string            `json:"uid"`
	Etag        string            `json:"etag"`
}

// entity converts w, or returns nil for a null item (by-refs answers null
// for a ref it does not have).
func (w *wireEntity) entity() (*catalog.Entity, error) {
	if w == nil {
		return nil, nil
	}
	e := &catalog.Entity{APIVersion: w.APIVersion, Kind: w.Kind, Spec: w.Spec, Relations: w.Relations}
	if len(w.Metadata) == 0 || string(w.Metadata) == "null" {
		return e, nil
	}
	m, err := decodeMetadata(w.Metadata)
	if err != nil {
		return nil, err
	}
	e.Metadata = m
	return e, nil
}

// decodeMetadata decodes a metadata block in one pass when it holds only
// the keys wireMetadata knows, and with catalog.Metadata's decoder, which
// keeps the others in Extra, when it does not.
func decodeMetadata(raw json.RawMessage) (catalog.Metadata, error) {
	if onlyKnownKeys(raw) {
		var wm wireMetadata
		if err := json.Unmarshal(raw, &wm); err != nil {
			return catalog.Metadata{}, err
		}
		return catalog.Metadata{Name: wm.Name, Namespace: wm.Namespace, Title: wm.Title, Description: wm.Description,
			Labels: wm.Labels, Annotations: wm.Annotations, Tags: wm.Tags, Links: wm.Links, UID: wm.UID, Etag: wm.Etag}, nil
	}
	var m catalog.Metadata
	err := json.Unmarshal(raw, &m)
	return m, err
}

// knownKeys are wireMetadata's keys.
var knownKeys = map[string]bool{"name": true, "namespace": true, "title": true, "description": true, "labels": true,
	"annotations": true, "tags": true, "links": true, "uid": true, "etag": true}

// onlyKnownKeys reports whether raw, a JSON object, has only knownKeys at
// its top level. It scans without decoding and answers false for anything
// it does not follow (escaped keys, malformed text): the slow path then
// decodes, or rejects, it properly.
func onlyKnownKeys(raw []byte) bool {
	depth, inString, escaped := 0, false, false
	keyStart := -1
	for i, b := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				if keyStart >= 0 {
					return false
				}
				escaped = true
			case b == '"':
				inString = false
				if keyStart >= 0 {
					if !knownKeys[string(raw[keyStart:i])] {
						return false
					}
					keyStart = -1
				}
			}
			continue
		}
		switch b {
		case '"':
			inString = true
			if depth == 1 && expectKey(raw[:i]) {
				keyStart = i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return depth == 0 && !inString
}

// expectKey reports whether a string starting after prefix, at the top
// level of an object, is a key: the last non-space byte is '{' or ','.
func expectKey(prefix []byte) bool {
	for i := len(prefix) - 1; i >= 0; i-- {
		switch prefix[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', ',':
			return true
		}
		return false
	}
	return false
}
