package portal

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/portalbot/portalbot/catalog"
)

// fastEntity is an entity as the API serves it, with metadata decoded into
// named fields in the same pass. catalog.Metadata's own decoder reads the
// block twice more to keep unknown keys in Extra, which made decoding most
// of a pull's cost; decodeEntities uses it only for a page whose metadata
// has keys beyond these.
type fastEntity struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   fastMetadata       `json:"metadata"`
	Spec       map[string]any     `json:"spec"`
	Relations  []catalog.Relation `json:"relations"`
}

// fastMetadata holds the metadata keys catalog.Metadata names; metaKeys
// lists them.
type fastMetadata struct {
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

var metaKeys = map[string]bool{"name": true, "namespace": true, "title": true, "description": true, "labels": true,
	"annotations": true, "tags": true, "links": true, "uid": true, "etag": true}

// decodeEntities decodes a by-query page or a by-refs answer of full
// entities; a null item (by-refs: no such entity) stays nil.
func decodeEntities(data []byte) (page[*catalog.Entity], error) {
	if !metadataKeysKnown(data) {
		var p page[*catalog.Entity]
		err := json.Unmarshal(data, &p)
		return p, err
	}
	var fp page[*fastEntity]
	if err := json.Unmarshal(data, &fp); err != nil {
		return page[*catalog.Entity]{}, err
	}
	p := page[*catalog.Entity]{Items: make([]*catalog.Entity, len(fp.Items)), PageInfo: fp.PageInfo}
	for i, f := range fp.Items {
		if f == nil {
			continue
		}
		m := f.Metadata
		p.Items[i] = &catalog.Entity{APIVersion: f.APIVersion, Kind: f.Kind, Spec: f.Spec, Relations: f.Relations,
			Metadata: catalog.Metadata{Name: m.Name, Namespace: m.Namespace, Title: m.Title, Description: m.Description,
				Labels: m.Labels, Annotations: m.Annotations, Tags: m.Tags, Links: m.Links, UID: m.UID, Etag: m.Etag}}
	}
	return p, nil
}

// maxScanDepth bounds metadataKeysKnown's stack; deeper text is left to
// the decoder (which is bounded by the response size).
const maxScanDepth = 10000

// metadataKeysKnown reports whether every items[].metadata object of a
// page's text has only metaKeys. It scans the bytes once without
// decoding, and answers false for anything it does not follow (a key with
// an escape above the metadata's level, unbalanced text), so that the
// caller takes the decoder that keeps every key, or reports the error.
func metadataKeysKnown(data []byte) bool {
	type frame struct {
		obj bool
		key []byte // the current key, in an object
	}
	stack := make([]frame, 0, 8)
	expectKey := false
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if len(stack) == maxScanDepth {
				return false
			}
			stack = append(stack, frame{obj: data[i] == '{'})
			expectKey = data[i] == '{'
		case '}', ']':
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1].obj
		case ':':
			expectKey = false
		case '"':
			j, esc := i+1, false
			for ; j < len(data) && data[j] != '"'; j++ {
				if data[j] == '\\' {
					esc = true
					j++
				}
			}
			if j >= len(data) {
				return false
			}
			if expectKey && len(stack) > 0 {
				// {"items": [ {"metadata": { key ...
				if esc && len(stack) <= 4 {
					return false
				}
				key := data[i+1 : j]
				stack[len(stack)-1].key = key
				if len(stack) == 4 && bytes.Equal(stack[0].key, []byte("items")) && !stack[1].obj &&
					bytes.Equal(stack[2].key, []byte("metadata")) && !metaKeys[string(key)] {
					return false
				}
			}
			i = j
		}
	}
	return len(stack) == 0
}

// decodeError names the request whose answer did not decode.
func decodeError(method, url string, err error) error {
	return fmt.Errorf("%s %s: 200 OK: response is not the JSON expected: %w", method, url, err)
}
