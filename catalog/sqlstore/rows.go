package sqlstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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
// nil, is e's Document as stamped (catalog.FileResult.Documents): it is
// stored as is when e has no definition to move out, which saves encoding
// the entity a second time. It lacks the uid and etag, which reads take
// from their columns (storedEntity.decode).
func encodeEntity(e *catalog.Entity, source string, doc []byte) (entityRow, error) {
	c := *e
	c.Relations = nil
	if c.Metadata.Etag == "" || c.Metadata.UID == "" {
		if err := c.Stamp(); err != nil {
			return entityRow{}, err
		}
	}
	ref := c.Ref()
	row := entityRow{
		ref:         ref.String(),
		kind:        canonicalKind(c.Kind),
		namespace:   ref.Namespace,
		name:        c.Metadata.Name,
		title:       c.Metadata.Title,
		description: c.Metadata.Description,
		specType:    c.SpecString("type"),
		lifecycle:   c.SpecString("lifecycle"),
		source:      source,
		path:        e.Origin.Path,
		line:        e.Origin.Line,
		commit:      e.Origin.Commit,
		etag:        c.Metadata.Etag,
		uid:         c.Metadata.UID,
		relations:   relationsToStore(e),
	}
	if o, ok := c.Owner(); ok {
		row.owner = o.String()
	}
	if len(c.Metadata.Tags) > 0 {
		b, err := json.Marshal(c.Metadata.Tags)
		if err != nil {
			return entityRow{}, err
		}
		row.tags = string(b)
	}
	def, hasDef := c.Spec["definition"].(string)
	if doc != nil && !hasDef && e.Metadata.Etag != "" {
		row.doc = string(doc)
		return row, nil
	}
	if hasDef {
		sum := sha256.Sum256([]byte(def))
		row.defHash, row.definition = hex.EncodeToString(sum[:]), def
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
	out := make([][]any, 0, len(rels))
	// Each source's and target's text is needed once per other relation
	// below: made once each.
	srcs, dsts := make([]string, len(rels)), make([]string, len(rels))
	for i, r := range rels {
		srcs[i] = r.Source.String()
		dsts[i] = r.TargetRef
		if dsts[i] == "" {
			dsts[i] = r.Target.String()
		}
		dsts[i] = strings.ToLower(dsts[i])
	}
	for i, rel := range rels {
		if srcs[i] != self {
			continue
		}
		dst := dsts[i]
		inv := catalog.Inverse(rel.Type)
		if inv != "" {
			found := false
			for j, r := range rels {
				if r.Type == inv && srcs[j] == dst && dsts[j] == self {
					found = true
					break
				}
			}
			if !found {
				inv = ""
			}
		}
		out = append(out, []any{self, rel.Type, dst, inv})
	}
	return out
}
