package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest descriptor file Parse reads: 10 MiB, far above
// any real catalog file (Backstage's biggest examples are a few kilobytes;
// an API with an inlined definition can reach a few hundred). Larger files
// are rejected whole rather than read into memory.
const MaxFileSize = 10 << 20

// MaxErrors bounds the problems reported for one file; the rest are
// counted in a last "and N more problems" entry.
const MaxErrors = 100

// ParseResult is everything Parse found in one file.
type ParseResult struct {
	// Entities are the valid entities, in file order, validated, stamped and
	// with Origin.Path and Origin.Line set.
	Entities []*Entity
	// Errors are the problems, each with the file and line it concerns.
	// Documents with problems yield no entity.
	Errors []ProcessingError
	// Skipped holds the lines of documents that are not entity descriptors
	// (no apiVersion, kind and metadata: an OpenAPI document, mkdocs.yml).
	Skipped []int
	// Fatal is set when the file could not be read as a whole (too large,
	// not text, too many documents or values, a YAML syntax error): its
	// Errors then concern the file. When it is false each error concerns
	// one document, and the other documents' entities stand on their own,
	// as Backstage processes each entity of a file separately.
	Fatal bool
	// Failed holds the refs of documents that name an entity (kind and
	// metadata.name) but have problems, so a caller can keep the entity's
	// last good version, as Backstage does when processing fails.
	Failed []Ref
	// Documents are the Entities' documents as stamped (FileResult.Documents),
	// so that a sync encodes each entity once.
	Documents map[*Entity][]byte
}

// Parse reads the YAML descriptor documents in r, which names path in its
// errors, and returns the valid entities and a ProcessingError for each
// problem (Source left empty). See ParseFile.
func Parse(r io.Reader, path string) ([]*Entity, []ProcessingError) {
	res := ParseFile(r, path)
	return res.Entities, res.Errors
}

// ParseFile reads the YAML documents in r, a file that path names in
// errors. Each document is decoded, checked for shape and validated, and
// every problem is reported at the line of the offending field (or of the
// document). Empty documents are skipped silently, non-descriptor documents
// are listed in Skipped. A file over MaxFileSize, binary content or a YAML
// syntax error stop the reading of the file; documents read before a
// syntax error are kept. A file whose structure exceeds MaxDocuments or
// MaxDocumentValues is rejected before it is parsed, which bounds time and
// memory whatever the input.
func ParseFile(r io.Reader, path string) ParseResult {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return ParseResult{Fatal: true, Errors: []ProcessingError{{Path: path, Message: "read: " + err.Error()}}}
	}
	return ParseBytes(data, path)
}

// ParseBytes is ParseFile of a file already read: a sync holds each blob
// it read in memory, and copying 43 MB of descriptors again through a
// reader cost it 85 MB of allocations at 100,000 entities (issue 19).
func ParseBytes(data []byte, path string) ParseResult {
	var res ParseResult
	dropped := 0
	fail := func(line int, msg string) {
		if len(res.Errors) >= MaxErrors {
			dropped++
			return
		}
		res.Errors = append(res.Errors, ProcessingError{Path: path, Line: line, Message: msg})
	}
	if line, msg := CheckLimits(data); msg != "" {
		fail(line, msg)
		res.Fatal = true
		return res
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	seen := make(map[string]int) // canonical ref -> line, within this file
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, msg := yamlError(err, data)
			fail(line, msg)
			res.Fatal = true
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document: "---" followed by nothing
		}
		e, problems, skip := decodeDocument(root)
		if skip {
			res.Skipped = append(res.Skipped, root.Line)
			continue
		}
		if e != nil && len(problems) > 0 {
			if e.Kind != "" && e.Metadata.Name != "" {
				res.Failed = append(res.Failed, e.Ref())
			}
			e = nil
		}
		if e != nil {
			e.Origin = Origin{Path: path, Line: root.Line}
			doc, err := e.StampDocument()
			if err != nil {
				problems = append(problems, located{line: root.Line, msg: "encode: " + err.Error()})
			}
			key := e.Ref().String()
			if prev, dup := seen[key]; dup && len(problems) == 0 {
				problems = append(problems, located{line: root.Line, msg: fmt.Sprintf("%s is already defined at line %d", key, prev)})
			}
			if len(problems) == 0 {
				seen[key] = root.Line
				res.Entities = append(res.Entities, e)
				if res.Documents == nil {
					res.Documents = map[*Entity][]byte{}
				}
				res.Documents[e] = doc
			}
		}
		for _, p := range problems {
			fail(p.line, p.msg)
		}
	}
	if dropped > 0 {
		res.Errors = append(res.Errors, ProcessingError{Path: path, Message: fmt.Sprintf("and %d more problems", dropped)})
	}
	return res
}

// located is a message at a line.
type located struct {
	line int
	msg  string
}

// checkText rejects what is not UTF-8 YAML text, before the YAML reader
// (which names no line for these): a NUL byte or other control character,
// invalid UTF-8. YAML 1.2 §5.1 allows tab, LF, CR, the printable ASCII
// range, NEL and printable Unicode.
func checkText(data []byte) (int, string) {
	line := 1
	for i := 0; i < len(data); {
		b := data[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '\n':
				line++
			case b == '\t' || b == '\r' || (b >= 0x20 && b < 0x7F):
			default:
				if b == 0 {
					return line, "binary content (a NUL byte), not a YAML text file"
				}
				return line, fmt.Sprintf("control character %U is not allowed in YAML", rune(b))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return line, "invalid UTF-8 (binary content?), not a YAML text file"
		}
		printable := r == 0x85 || (r >= 0xA0 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000
		if !printable || (r == 0xFEFF && i != 0) {
			return line, fmt.Sprintf("character %U is not allowed in YAML", r)
		}
		i += size
	}
	return 0, ""
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError splits a yaml.v3 error into its line and message. yaml.v3
// names the line where the enclosing construct began; for a tab in the
// indentation, the commonest mistake, the line of the tab itself is more
// useful, so it is looked up in data.
func yamlError(err error, data []byte) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1]) // the pattern matched digits; overflow leaves 0
		if strings.Contains(m[2], "tab character") {
			line = tabIndentLine(data, line)
		}
		return line, "YAML syntax: " + m[2]
	}
	return 0, "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")
}

// tabIndentLine returns the first line at or after from whose indentation
// holds a tab, or from when there is none.
func tabIndentLine(data []byte, from int) int {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if i+1 < from {
			continue
		}
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.IndexByte(indent, '\t') >= 0 {
			return i + 1
		}
	}
	return from
}

// Root fields an entity may have (NoForeignRootFieldsEntityPolicy).
var rootFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "spec": true, "relations": true, "status": true}

// decodeDocument turns one document's root node into an entity. skip
// reports a document that is not an entity descriptor. problems carry
// lines; when there are any, e may be nil or partial and must not be used.
func decodeDocument(root *yaml.Node) (e *Entity, problems []located, skip bool) {
	if !isDescriptor(root) {
		return nil, nil, true
	}
	at := func(f FieldError) located {
		return located{line: lineOf(root, f.path), msg: f.Error()}
	}
	val, err := newConverter(root).value(root, 0)
	if err != nil {
		var ne *nodeError
		if errors.As(err, &ne) {
			return nil, []located{{ne.line, ne.msg}}, false
		}
		return nil, []located{{root.Line, err.Error()}}, false
	}
	doc, _ := val.(map[string]any) // isDescriptor checked it is a mapping
	e, shape := entityFromMap(doc)
	all := shape
	if err := e.Validate(); err != nil {
		var ve *ValidationError
		if !errors.As(err, &ve) {
			return nil, []located{{root.Line, err.Error()}}, false
		}
		// A field of the wrong type was left empty in e; its "required"
		// would repeat the shape error.
		reported := make(map[string]bool, len(shape))
		for _, f := range shape {
			reported[f.Field] = true
		}
		for _, f := range ve.Problems {
			if !coveredBy(f.path, reported) {
				all = append(all, f)
			}
		}
	}
	for _, f := range all {
		problems = append(problems, at(f))
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].line < problems[j].line })
	// e is returned with its problems so the caller knows which entity
	// failed; it must not be used as valid.
	return e, problems, false
}

// coveredBy reports whether the field at path or one of its parents is in
// reported.
func coveredBy(path []string, reported map[string]bool) bool {
	for i := len(path); i > 0; i-- {
		if reported[strings.Join(path[:i], ".")] {
			return true
		}
	}
	return false
}

// isDescriptor reports whether a document is meant as an entity: a mapping
// with apiVersion, kind and metadata, or one that names a built-in kind or
// a backstage.io apiVersion (so that a descriptor missing a field is
// reported, while a Kustomization or an OpenAPI document is skipped).
func isDescriptor(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	var has [3]bool
	var kind, version string
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "apiVersion":
			has[0], version = true, root.Content[i+1].Value
		case "kind":
			has[1], kind = true, root.Content[i+1].Value
		case "metadata":
			has[2] = true
		}
	}
	if has[0] && has[1] && has[2] {
		return true
	}
	if _, ok := KnownKind(kind); ok && kind != "" {
		return true
	}
	group, _, _ := strings.Cut(version, "/")
	return group == "backstage.io" || strings.HasSuffix(group, ".backstage.io")
}

// entityFromMap builds an entity from a decoded document, reporting fields
// of the wrong type (a number where a string belongs, a list where a
// mapping does) and root fields Backstage does not allow.
func entityFromMap(doc map[string]any) (*Entity, []FieldError) {
	var errs []FieldError
	bad := func(msg string, path ...string) { errs = append(errs, fieldError(msg, path...)) }
	str := func(m map[string]any, key string, path ...string) string {
		v, ok := m[key]
		if !ok || v == nil {
			return ""
		}
		s, isStr := v.(string)
		if !isStr {
			// A new slice, so that path, made for every call, is not
			// kept and need not be allocated.
			bad("must be a string, not "+typeName(v), slices.Concat(path, []string{key})...)
		}
		return s
	}
	e := &Entity{}
	if !allKeys(doc, func(k string, _ any) bool { return rootFields[k] }) {
		for _, k := range sortedKeys(doc) {
			if !rootFields[k] {
				bad(fmt.Sprintf("unknown root field %s; an entity has apiVersion, kind, metadata, spec, relations and status", quote(k)), k)
			}
		}
	}
	e.APIVersion = str(doc, "apiVersion")
	e.Kind = str(doc, "kind")
	switch s := doc["spec"].(type) {
	case nil:
	case map[string]any:
		e.Spec = s
	default:
		bad("must be a mapping, not "+typeName(s), "spec")
	}
	if r, ok := doc["relations"]; ok && r != nil {
		if _, isList := r.([]any); !isList {
			bad("must be a list, not "+typeName(r), "relations")
		}
	}
	if s, ok := doc["status"]; ok && s != nil {
		if _, isMap := s.(map[string]any); !isMap {
			bad("must be a mapping, not "+typeName(s), "status")
		}
	}
	md, ok := doc["metadata"].(map[string]any)
	if !ok {
		if doc["metadata"] == nil {
			bad("required", "metadata")
		} else {
			bad("must be a mapping, not "+typeName(doc["metadata"]), "metadata")
		}
		return e, errs
	}
	m := &e.Metadata
	m.Name = str(md, "name", "metadata")
	m.Namespace = str(md, "namespace", "metadata")
	m.Title = str(md, "title", "metadata")
	m.Description = str(md, "description", "metadata")
	for k, v := range md {
		if !metadataFields[k] {
			if m.Extra == nil {
				m.Extra = make(map[string]any)
			}
			m.Extra[k] = v
		}
	}
	m.Labels = stringMap(md, "labels", bad)
	m.Annotations = stringMap(md, "annotations", bad)
	if v, ok := md["tags"]; ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			bad("must be a list of strings, not "+typeName(v), "metadata", "tags")
		}
		for i, x := range list {
			s, isStr := x.(string)
			if !isStr {
				bad("must be a string, not "+typeName(x), "metadata", "tags", strconv.Itoa(i))
				continue
			}
			if m.Tags == nil {
				m.Tags = make([]string, 0, len(list)-i)
			}
			m.Tags = append(m.Tags, s)
		}
	}
	if v, ok := md["links"]; ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			bad("must be a list of links, not "+typeName(v), "metadata", "links")
		}
		for i, x := range list {
			idx := strconv.Itoa(i)
			lm, isMap := x.(map[string]any)
			if !isMap {
				bad("must be a mapping with a url, not "+typeName(x), "metadata", "links", idx)
				continue
			}
			p := []string{"metadata", "links", idx}
			m.Links = append(m.Links, Link{
				URL:   str(lm, "url", p...),
				Title: str(lm, "title", p...),
				Icon:  str(lm, "icon", p...),
				Type:  str(lm, "type", p...),
			})
		}
	}
	return e, errs
}

// stringMap reads metadata.labels or metadata.annotations: a mapping whose
// values are strings (EntityMeta.schema.json; isValidAnnotationValue).
func stringMap(md map[string]any, key string, bad func(string, ...string)) map[string]string {
	v, ok := md[key]
	if !ok || v == nil {
		return nil
	}
	raw, isMap := v.(map[string]any)
	if !isMap {
		bad("must be a mapping, not "+typeName(v), "metadata", key)
		return nil
	}
	out := make(map[string]string, len(raw))
	if allKeys(raw, func(_ string, v any) bool { _, isStr := v.(string); return isStr }) {
		for k, v := range raw {
			out[k] = v.(string)
		}
		return out
	}
	for _, k := range sortedKeys(raw) {
		s, isStr := raw[k].(string)
		if !isStr {
			bad("must be a string, not "+typeName(raw[k])+" (quote it)", "metadata", key, k)
			continue
		}
		out[k] = s
	}
	return out
}

// allKeys reports whether ok holds for every entry of m. Checks that
// report problems in key order call it first, so that the keys are sorted
// only when there is a problem to report.
func allKeys[V any](m map[string]V, ok func(string, V) bool) bool {
	for k, v := range m {
		if !ok(k, v) {
			return false
		}
	}
	return true
}
