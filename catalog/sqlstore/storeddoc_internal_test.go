package sqlstore

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
)

// hostileStrings are values that encoding/json escapes, or that look like
// the JSON around them: what definitionMoved must not be misled by.
var hostileStrings = []string{
	"", "plain", `quote"d`, `back\slash`, `ends with \`, `\"`, `"definition":"x",`, `,"spec":{`, "}", "{", "]", "[",
	"<html>&amp;", "tab\there", "nul\x00", "bad\xffutf8", "\u2028\u2029", "ünïcode", "emoji 🙂", "\x7f",
}

// hostileEntity makes an entity of random shape: spec keys on either side
// of "definition" (and prefixes of it), nested maps and lists holding
// "definition" keys, hostile strings everywhere, sometimes metadata extra
// fields, a definition alone or not a string, odd uids and etags.
func hostileEntity(rng *rand.Rand) *catalog.Entity {
	str := func() string { return hostileStrings[rng.IntN(len(hostileStrings))] }
	var value func(depth int) any
	value = func(depth int) any {
		switch n := rng.IntN(7); {
		case n == 0 && depth < 3:
			m := map[string]any{}
			for range rng.IntN(4) {
				m[[]string{"definition", str(), "a", "z"}[rng.IntN(4)]] = value(depth + 1)
			}
			return m
		case n == 1 && depth < 3:
			l := []any{}
			for range rng.IntN(3) {
				l = append(l, value(depth+1))
			}
			return l
		case n == 2:
			return int64(rng.IntN(1000) - 500)
		case n == 3:
			return rng.Float64() * 1e6
		case n == 4:
			return rng.IntN(2) == 0
		case n == 5:
			return nil
		}
		return str()
	}
	e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "API",
		Metadata: catalog.Metadata{Name: "api-" + fmt.Sprint(rng.IntN(1000)), Title: str(), Description: str()},
		Spec:     map[string]any{}}
	if rng.IntN(2) == 0 {
		e.Metadata.Namespace = "ns"
	}
	if rng.IntN(2) == 0 {
		e.Metadata.Tags = []string{str(), "go", str()}
	}
	if rng.IntN(3) == 0 {
		e.Metadata.Labels = map[string]string{"a": str(), str(): "b"}
		e.Metadata.Annotations = map[string]string{"backstage.io/x": str()}
		e.Metadata.Links = []catalog.Link{{URL: "https://x.example/" + str(), Title: str()}}
	}
	if rng.IntN(5) == 0 {
		e.Metadata.Extra = map[string]any{"zzz": value(1), "aaa": str()}
	}
	for _, k := range []string{"a", "defin", "definitio", "definition0", "definitionX", "definitions", "type", "owner", "z", str()} {
		if rng.IntN(2) == 0 {
			e.Spec[k] = value(0)
		}
	}
	switch rng.IntN(6) {
	case 0: // no definition
	case 1:
		e.Spec["definition"] = map[string]any{"$text": "./openapi.yaml"}
	default:
		e.Spec["definition"] = str() + "openapi: 3.0.0\n" + str()
	}
	if rng.IntN(4) == 0 {
		e.Spec = map[string]any{"definition": "alone"}
	}
	return e
}

// docEntities returns the entities of the fixture files and of hostile
// shapes, each with its stamped document.
func docEntities(t *testing.T) ([]*catalog.Entity, map[*catalog.Entity][]byte) {
	t.Helper()
	var ents []*catalog.Entity
	files, _ := filepath.Glob("../testdata/*/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, catalog.ParseFile(strings.NewReader(string(data)), p).Entities...)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		ents = append(ents, hostileEntity(rng))
	}
	docs := map[*catalog.Entity][]byte{}
	for i, e := range ents {
		if i%7 == 0 && e.Metadata.Etag == "" {
			// Served entities come with uids and etags of their own.
			e.Metadata.UID, e.Metadata.Etag = "uid-"+hostileStrings[i%len(hostileStrings)], `e"tag`
		}
		doc, err := e.Document()
		if err != nil {
			t.Fatalf("Document(%s): %v", e.Ref(), err)
		}
		if e.Metadata.Etag == "" {
			if doc, err = e.StampDocument(); err != nil {
				t.Fatalf("StampDocument(%s): %v", e.Ref(), err)
			}
		}
		docs[e] = doc
	}
	return ents, docs
}

// TestDefinitionMovedMatchesMarshal checks that encodeEntity given an
// entity's stamped document builds the row, stored document included,
// byte for byte as it does by encoding the entity itself (except that an
// entity without a definition is stored as stamped), and that the
// stamped document is cut rather than the entity encoded for most
// entities with a definition.
func TestDefinitionMovedMatchesMarshal(t *testing.T) {
	ents, docs := docEntities(t)
	cut := 0
	for _, e := range ents {
		want, err := encodeEntity(e, "src", nil)
		if err != nil {
			t.Fatalf("encodeEntity(%s, nil): %v", e.Ref(), err)
		}
		_, hasDef := e.Spec["definition"].(string)
		if !hasDef {
			want.doc = string(docs[e]) // stored as stamped, without uid and etag
		}
		got, err := encodeEntity(e, "src", docs[e])
		if err != nil {
			t.Fatalf("encodeEntity(%s, doc): %v", e.Ref(), err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(entityRow{}), cmp.Comparer(func(a, b catalog.Ref) bool { return a == b })); diff != "" {
			t.Errorf("encodeEntity(%s) with its document differs from without (-without +with):\n%s\ndoc: %s", e.Ref(), diff, docs[e])
		}
		if hasDef {
			if _, ok := definitionMoved(docs[e], e.Metadata.UID, e.Metadata.Etag); ok {
				cut++
			}
		}
	}
	if cut < 1000 {
		t.Errorf("definitionMoved cut %d documents; want most of the ~2,500 with a string definition", cut)
	}
}

// TestWriteJSONString checks writeJSONString against json.Marshal.
func TestWriteJSONString(t *testing.T) {
	for _, s := range append(hostileStrings, "0123-abc", "c++", "k8s:prod#1") {
		var b strings.Builder
		writeJSONString(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Errorf("writeJSONString(%q) = %s, want %s", s, b.String(), want)
		}
	}
	tags := []string{"go", `q"`, "<b>"}
	if got, want := tagsJSON(tags), `["go","q\"","\u003cb\u003e"]`; got != want {
		t.Errorf("tagsJSON(%q) = %s, want %s", tags, got, want)
	}
}
