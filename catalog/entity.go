package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Kinds known to Backstage's catalog model. Kind names compare
// case-insensitively; these are the spellings used in canonical output.
const (
	KindComponent  = "Component"
	KindAPI        = "API"
	KindResource   = "Resource"
	KindSystem     = "System"
	KindDomain     = "Domain"
	KindGroup      = "Group"
	KindUser       = "User"
	KindLocation   = "Location"
	KindTemplate   = "Template"
	KindAiResource = "AiResource"
)

// Well-known annotations.
const (
	AnnotationSourceLocation = "backstage.io/source-location"
	AnnotationTechDocsRef    = "backstage.io/techdocs-ref"
	AnnotationOrphan         = "backstage.io/orphan"
)

// Entity is one Backstage catalog entity as written in a descriptor file,
// plus the relations derived from it and where it was read from.
type Entity struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Metadata   Metadata       `json:"metadata" yaml:"metadata"`
	Spec       map[string]any `json:"spec,omitempty" yaml:"spec,omitempty"`
	// Relations holds the relations whose source is this entity, including
	// the inverses that other entities' fields point at it once stitched.
	Relations []Relation `json:"relations,omitempty" yaml:"relations,omitempty"`
	// ServedRelations says Relations are the catalog's own, as a Backstage
	// API served them (Backstage's processors and stitching computed
	// them): a store keeps them as given instead of deriving relations
	// from the spec. It is not part of the document.
	ServedRelations bool `json:"-" yaml:"-"`
	// RelationsOmitted says that Relations were left out when the entity
	// was read (Query.NoRelations), not that it has none. It is not part
	// of the document.
	RelationsOmitted bool `json:"-" yaml:"-"`

	// Origin says where the entity was read from; it is not part of the
	// document and is never serialised with it.
	Origin Origin `json:"-" yaml:"-"`
}

// Metadata is an entity's metadata block.
type Metadata struct {
	Name        string            `json:"name" yaml:"name"`
	Namespace   string            `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Title       string            `json:"title,omitempty" yaml:"title,omitempty"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
	Tags        []string          `json:"tags,omitempty" yaml:"tags,omitempty"`
	Links       []Link            `json:"links,omitempty" yaml:"links,omitempty"`
	// UID is stable for a given entity ref; Etag changes whenever the
	// document changes. Both are set by the catalog, not by descriptor files.
	UID  string `json:"uid,omitempty" yaml:"uid,omitempty"`
	Etag string `json:"etag,omitempty" yaml:"etag,omitempty"`
	// Extra holds the other metadata fields a descriptor writes (Backstage's
	// EntityMeta allows any), kept as decoded and serialised inline beside
	// the named ones. Nil when there are none.
	Extra map[string]any `json:"-" yaml:",inline"`
}

// Link is one entry of metadata.links.
type Link struct {
	URL   string `json:"url" yaml:"url"`
	Title string `json:"title,omitempty" yaml:"title,omitempty"`
	Icon  string `json:"icon,omitempty" yaml:"icon,omitempty"`
	Type  string `json:"type,omitempty" yaml:"type,omitempty"`
}

// Origin locates an entity in its source: the configured source name, the
// file path inside it (slash-separated, relative to the repository root),
// the 1-based line of the document's start and the commit it was read at.
type Origin struct {
	Source string
	Path   string
	Line   int
	Commit string
}

// Ref returns the entity's own reference. The namespace defaults to
// "default" when metadata.namespace is empty.
func (e *Entity) Ref() Ref {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return Ref{Kind: e.Kind, Namespace: ns, Name: e.Metadata.Name}
}

// SpecString returns spec[key] when it is a string, and "" otherwise.
func (e *Entity) SpecString(key string) string {
	s, _ := e.Spec[key].(string)
	return s
}

// SpecStrings returns spec[key] as a list of strings: a single string
// becomes a one-element list, non-string elements are skipped.
func (e *Entity) SpecStrings(key string) []string {
	switch v := e.Spec[key].(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Owner returns the entity's spec.owner resolved against its own namespace,
// and false when it has none or it does not parse.
func (e *Entity) Owner() (Ref, bool) {
	o := e.SpecString("owner")
	if o == "" {
		return Ref{}, false
	}
	r, err := ParseRef(o, KindGroup, e.Ref().Namespace)
	if err != nil {
		return Ref{}, false
	}
	return r, true
}

// Document returns the JSON encoding of the entity without its relations
// or catalog-assigned uid and etag: the part that the descriptor file
// decides and that the etag is computed from.
//
// The bytes are json.Marshal's for the entity so changed, written by
// docjson.go's encoders: every entity of a sync is stamped, and
// json.Marshal spent most of that time in reflection over its maps
// (TestDocumentMatchesMarshal).
func (e *Entity) Document() ([]byte, error) {
	m := e.Metadata
	m.UID, m.Etag = "", ""
	b := make([]byte, 0, 512)
	b = append(b, `{"apiVersion":`...)
	b = AppendJSONString(b, e.APIVersion)
	b = append(b, `,"kind":`...)
	b = AppendJSONString(b, e.Kind)
	b = append(b, `,"metadata":`...)
	if len(m.Extra) == 0 {
		b = appendNamedMetadata(b, &m)
	} else {
		meta, err := m.MarshalJSON()
		if err != nil {
			return e.marshalDocument() // for the error as json.Marshal words it
		}
		b = append(b, meta...)
	}
	if len(e.Spec) > 0 { // omitempty
		var ok bool
		if b, ok = appendValue(append(b, `,"spec":`...), e.Spec, 0); !ok {
			return e.marshalDocument()
		}
	}
	// The document is kept until the store has written its entity, some
	// thousands at a time: it is returned in a slice of its own size, as
	// json.Marshal returns one, not in the buffer grown to write it.
	b = append(b, '}')
	return append(make([]byte, 0, len(b)), b...), nil
}

// marshalDocument is Document by json.Marshal of the whole entity.
func (e *Entity) marshalDocument() ([]byte, error) {
	c := *e
	c.Relations = nil
	c.Metadata.UID, c.Metadata.Etag = "", ""
	return json.Marshal(&c)
}

// AppendJSONString appends s to b as json.Marshal encodes a string: quoted
// as is when it is printable ASCII that encoding/json does not escape, as
// kinds, apiVersions, uids, etags and valid tags are, and by json.Marshal
// otherwise.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7F, c == '"', c == '\\', c == '<', c == '>', c == '&':
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Stamp sets the entity's uid (derived from its ref, so it is stable across
// syncs and replicas) and etag (a hash of its document).
func (e *Entity) Stamp() error {
	_, err := e.StampDocument()
	return err
}

// StampDocument is Stamp that also returns the document it hashed, which
// a store may write as the entity's stored document rather than encode
// the entity again (FileResult.Documents).
func (e *Entity) StampDocument() ([]byte, error) {
	doc, err := e.Document()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	var etag [24]byte
	hex.Encode(etag[:], sum[:12])
	e.Metadata.Etag = string(etag[:])
	e.Metadata.UID = uidOf(e.Ref().String())
	return doc, nil
}

// uidOf returns the uid of the entity whose canonical ref is ref: the
// first 16 bytes of the SHA-256 of "portalbot-uid:" and ref, in hex, in
// a UUID's 8-4-4-4-12 groups. It is built in place, as every entity of a
// sync is stamped.
func uidOf(ref string) string {
	var in [128]byte
	u := sha256.Sum256(append(append(in[:0], "portalbot-uid:"...), ref...))
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}
