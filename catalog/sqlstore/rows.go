package sqlstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portalbot/portalbot/catalog"
)

// timeLayout is how times are written to both dialects: fixed-width UTC with
// microseconds (Postgres' precision), so that SQLite's TEXT columns compare
// and sort chronologically and Postgres parses it as timestamptz.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// dbTimeValue returns t in the form stored in the database.
func dbTimeValue(t time.Time) string { return t.UTC().Format(timeLayout) }

// dbTime scans a time from either dialect: time.Time from Postgres, TEXT
// from SQLite. NULL scans as the zero time.
type dbTime struct{ time.Time }

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = x.UTC()
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	return nil
}

func (t *dbTime) parse(s string) error {
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	t.Time = p.UTC()
	return nil
}

// splitRef turns a stored canonical ref back into a Ref. Stored refs were
// produced by Ref.String, so the first ':' ends the kind and the first '/'
// after it ends the namespace.
func splitRef(s string) catalog.Ref {
	var r catalog.Ref
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return catalog.Ref{Name: s}
	}
	r.Kind = kind
	ns, name, ok := strings.Cut(rest, "/")
	if !ok {
		r.Namespace, r.Name = catalog.DefaultNamespace, rest
		return r
	}
	r.Namespace, r.Name = ns, name
	return r
}

// canonicalKinds maps lower-case kind names to the spelling Counts reports.
var canonicalKinds = map[string]string{}

func init() {
	for _, k := range []string{catalog.KindComponent, catalog.KindAPI, catalog.KindResource, catalog.KindSystem,
		catalog.KindDomain, catalog.KindGroup, catalog.KindUser, catalog.KindLocation, catalog.KindTemplate, catalog.KindAiResource} {
		canonicalKinds[strings.ToLower(k)] = k
	}
}

func canonicalKind(k string) string {
	if c, ok := canonicalKinds[strings.ToLower(k)]; ok {
		return c
	}
	return k
}

// entityRow is one row of the entities table, as written.
type entityRow struct {
	ref, kind, namespace, name, owner string
	title, description, tags          string
	specType, lifecycle, doc          string
	source, path                      string
	line                              int
	commit, etag, uid                 string
	defHash                           string             // "" when none
	definition                        string             // the text behind defHash
	relations                         []catalog.Relation // see relationsToStore
}

// encodeEntity builds the row for e read from source. spec.definition, when
// a string, is moved out of the document into definitions. doc, when not
// nil, is e's Document as stamped (catalog.FileResult.Documents), which
// saves encoding the entity a second time: it is stored as is when e has
// no definition to move out, without the uid and etag, which reads take
// from their columns (storedEntity.decode); when e has one, it is cut to
// the encoding of e without it (definitionMoved).
func encodeEntity(e *catalog.Entity, source string, doc []byte) (entityRow, error) {
	uid, etag := e.Metadata.UID, e.Metadata.Etag
	if etag == "" || uid == "" {
		c := *e
		if err := c.Stamp(); err != nil {
			return entityRow{}, err
		}
		uid, etag = c.Metadata.UID, c.Metadata.Etag
	}
	ref := e.Ref()
	row := entityRow{
		ref:         ref.String(),
		kind:        canonicalKind(e.Kind),
		namespace:   ref.Namespace,
		name:        e.Metadata.Name,
		title:       e.Metadata.Title,
		description: e.Metadata.Description,
		specType:    e.SpecString("type"),
		lifecycle:   e.SpecString("lifecycle"),
		source:      source,
		path:        e.Origin.Path,
		line:        e.Origin.Line,
		commit:      e.Origin.Commit,
		etag:        etag,
		uid:         uid,
		relations:   relationsToStore(e),
	}
	if o, ok := e.Owner(); ok {
		row.owner = o.String()
	}
	if len(e.Metadata.Tags) > 0 {
		row.tags = tagsJSON(e.Metadata.Tags)
	}
	def, hasDef := e.Spec["definition"].(string)
	if hasDef {
		sum := sha256.Sum256([]byte(def))
		row.defHash, row.definition = hex.EncodeToString(sum[:]), def
	}
	if doc != nil && e.Metadata.Etag != "" {
		if !hasDef {
			row.doc = string(doc)
			return row, nil
		}
		if len(e.Metadata.Extra) == 0 {
			if d, ok := definitionMoved(doc, uid, etag); ok {
				row.doc = d
				return row, nil
			}
		}
	}
	c := *e
	c.Relations = nil
	c.Metadata.UID, c.Metadata.Etag = uid, etag
	if hasDef {
		spec := make(map[string]any, len(c.Spec)-1)
		for k, v := range c.Spec {
			if k != "definition" {
				spec[k] = v
			}
		}
		c.Spec = spec
	}
	enc, err := json.Marshal(&c)
	if err != nil {
		return entityRow{}, err
	}
	row.doc = string(enc)
	return row, nil
}

// tagsJSON is json.Marshal(tags), written directly: every entity with tags
// has them encoded for its row.
func tagsJSON(tags []string) string {
	var b strings.Builder
	n := 1
	for _, t := range tags {
		n += len(t) + 3
	}
	b.Grow(n)
	b.WriteByte('[')
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, t)
	}
	b.WriteByte(']')
	return b.String()
}

var _ catalog.SyncPreparer = (*Store)(nil)

// prepared is an entity's row and forward relation rows, built by Prepare
// on a parse worker.
type prepared struct {
	row     entityRow // without its source, which writeEntities sets
	forward [][]any
}

// Prepare builds e's row and relation rows ahead of the write; see
// catalog.SyncPreparer. An entity it cannot encode is left to the writer,
// which records the error.
func (s *Store) Prepare(e *catalog.Entity, doc []byte) any {
	if doc == nil || e.Metadata.Etag == "" || e.Metadata.UID == "" {
		return nil
	}
	row, err := encodeEntity(e, "", doc)
	if err != nil {
		return nil
	}
	p := &prepared{row: row, forward: forwardRelations(row.relations, row.ref)}
	p.row.relations = nil // in forward now
	return p
}

// storedEntity is what reads select from entities.
type storedEntity struct {
	Ref        string  `db:"ref"`
	Doc        string  `db:"doc"`
	Source     string  `db:"source"`
	Path       string  `db:"path"`
	Line       int     `db:"line"`
	Commit     string  `db:"commit_sha"`
	Etag       string  `db:"etag"`
	UID        string  `db:"uid"`
	Definition *string `db:"definition"`
}

const entityColumns = "e.ref, e.doc, e.source, e.path, e.line, e.commit_sha, e.etag, e.uid"

func (r *storedEntity) decode() (*catalog.Entity, error) {
	e, err := catalog.DecodeDocument([]byte(r.Doc))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.Ref, err)
	}
	e.Metadata.UID, e.Metadata.Etag = r.UID, r.Etag
	e.Origin = catalog.Origin{Source: r.Source, Path: r.Path, Line: r.Line, Commit: r.Commit}
	if r.Definition != nil {
		if e.Spec == nil {
			e.Spec = map[string]any{}
		}
		e.Spec["definition"] = *r.Definition
	}
	return e, nil
}

// relationRow is one row of the relations table.
type relationRow struct {
	Source string `db:"source_ref"`
	Type   string `db:"type"`
	Target string `db:"target_ref"`
}

func (r relationRow) relation() catalog.Relation {
	return catalog.Relation{Type: r.Type, Source: splitRef(r.Source), Target: splitRef(r.Target), TargetRef: r.Target}
}

// forwardRelations returns the rows of the relations table for the
// relations rels derived from the entity whose canonical ref is self: one
// per forward edge (source self), each with the type of its inverse when
// rels holds that inverse too, and "" otherwise. Readers derive the inverse
// from the row (see Relations), so it is never stored on its own.
func forwardRelations(rels []catalog.Relation, self string) [][]any {
	n := 0
	for _, r := range rels {
		if isRef(r.Source, self) {
			n++
		}
	}
	// One backing array holds every row's values, and self is boxed once:
	// a sync makes some three rows per entity.
	out := make([][]any, 0, n)
	vals := make([]any, 0, 4*n)
	selfV := any(self)
	for _, rel := range rels {
		if !isRef(rel.Source, self) {
			continue
		}
		dst := rel.TargetRef
		if dst == "" {
			dst = rel.Target.String()
		}
		dst = strings.ToLower(dst)
		inv := catalog.Inverse(rel.Type)
		if inv != "" && !hasRelation(rels, inv, dst, self) {
			inv = ""
		}
		vals = append(vals, selfV, constValue(rel.Type), dst, constValue(inv))
		out = append(out, vals[len(vals)-4:len(vals):len(vals)])
	}
	return out
}

// boxedConsts holds Backstage's relation types and built-in kinds (in
// canonicalKind's spelling) each boxed in an any once, so that a row's
// repeated values cost no allocation.
var boxedConsts = func() map[string]any {
	m := map[string]any{}
	for _, c := range []string{
		catalog.RelOwnedBy, catalog.RelOwnerOf, catalog.RelPartOf, catalog.RelHasPart,
		catalog.RelDependsOn, catalog.RelDependencyOf, catalog.RelProvidesAPI, catalog.RelAPIProvidedBy,
		catalog.RelConsumesAPI, catalog.RelAPIConsumedBy, catalog.RelMemberOf, catalog.RelHasMember,
		catalog.RelParentOf, catalog.RelChildOf,
		catalog.KindComponent, catalog.KindAPI, catalog.KindResource, catalog.KindSystem, catalog.KindDomain,
		catalog.KindGroup, catalog.KindUser, catalog.KindLocation, catalog.KindTemplate, catalog.KindAiResource,
	} {
		m[c] = c
	}
	return m
}()

// constValue is s in an any, without an allocation when s is a relation
// type or a built-in kind (boxedConsts).
func constValue(s string) any {
	if v, ok := boxedConsts[s]; ok {
		return v
	}
	return s
}

// hasRelation reports whether rels holds a relation of type typ from the
// entity whose canonical ref is src to the one whose ref is dst, compared
// as forwardRelations compares them: sources by their String, targets by
// their TargetRef (or Target's String) in lower case.
func hasRelation(rels []catalog.Relation, typ, src, dst string) bool {
	for _, r := range rels {
		if r.Type != typ || !isRef(r.Source, src) {
			continue
		}
		t := r.TargetRef
		if t == "" {
			t = r.Target.String()
		}
		if strings.ToLower(t) == dst {
			return true
		}
	}
	return false
}

// isRef reports whether r.String() == s, without building the string when
// r is ASCII, as the refs a sync derives are.
func isRef(r catalog.Ref, s string) bool {
	if !isASCII(r.Kind) || !isASCII(r.Namespace) || !isASCII(r.Name) {
		return r.String() == s
	}
	if len(r.Kind)+len(r.Namespace)+len(r.Name)+2 != len(s) {
		return false
	}
	k, ns := len(r.Kind), len(r.Kind)+1+len(r.Namespace)
	return s[k] == ':' && s[ns] == '/' &&
		isLower(r.Kind, s[:k]) && isLower(r.Namespace, s[k+1:ns]) && isLower(r.Name, s[ns+1:])
}

// isLower reports whether lower is s with ASCII upper case letters in
// lower case; both are ASCII and as long.
func isLower(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
