package catalog_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
)

// documents returns the stored documents of every entity of the testdata
// fixtures and, when present, the shared Backstage corpus.
func documents(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, _ := filepath.Glob("testdata/*/*.yaml")
	if _, err := os.Stat(corpusDir); err == nil {
		files = append(files, corpusFiles(tb, "")...)
	}
	docs := map[string][]byte{}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		ents, _ := catalog.Parse(f, p)
		f.Close()
		for i, e := range ents {
			doc, err := e.StampDocument()
			if err != nil {
				tb.Fatal(err)
			}
			docs[p+"#"+e.Ref().String()] = doc
			if i == 0 {
				// As the API returns it: uid and etag included.
				if docs[p+"#stamped"], err = json.Marshal(e); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	if len(docs) < 50 {
		tb.Fatalf("only %d documents to compare", len(docs))
	}
	return docs
}

// sameAsUnmarshal checks DecodeDocument(doc) against json.Unmarshal.
func sameAsUnmarshal(t *testing.T, name string, doc []byte) {
	t.Helper()
	var want catalog.Entity
	werr := json.Unmarshal(doc, &want)
	got, err := catalog.DecodeDocument(doc)
	if (err != nil) != (werr != nil) {
		t.Fatalf("DecodeDocument(%s %.200q) error = %v, json.Unmarshal's %v", name, doc, err, werr)
	}
	if err != nil {
		return
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("DecodeDocument(%s %.200q) differs from json.Unmarshal (-Unmarshal +DecodeDocument):\n%s", name, doc, diff)
	}
}

func TestDecodeDocument(t *testing.T) {
	for name, doc := range documents(t) {
		sameAsUnmarshal(t, name, doc)
	}
	for _, doc := range []string{
		`{"apiVersion":"v1","kind":"Component","metadata":{"name":"a","tags":[],"links":[],"labels":{},"annotations":{"a":""}},"spec":{"n":[1,-2.5e3,0,{"x":null,"y":true,"z":false}],"e":{},"l":[]}}`,
		` { "kind" : "Component" , "metadata" : { "name" : "a" } , "spec" : { "a" : [ ] } } `,
		`{"kind":"Component","metadata":{"name":"a","description":"\u003cb\u003e \"q\""}}`, // escapes
		`{"kind":"Component","metadata":{"name":"a","owner-slack":"#x"}}`,                  // extra metadata
		`{"kind":"Component","Metadata":{"name":"a"}}`,                                     // another case
		`{"kind":"Component","kind":"API","metadata":{"name":"a"}}`,                        // repeated key
		`{"kind":"Component","metadata":{"name":"a","labels":{"x":"1","x":"2"}}}`,
		`{"kind":"Component","metadata":{"name":"a"},"spec":{"x":1,"x":{"y":2}}}`,
		`{"kind":"Component","metadata":{"name":"a"},"spec":null}`,
		`{"kind":"Component","metadata":null}`,
		`{"kind":"Component","metadata":{"name":null}}`,
		`{"kind":"Component","metadata":{"name":"a"},"relations":[{"type":"ownedBy","targetRef":"group:default/x"}]}`,
		`{"kind":"Component","metadata":{"name":"a","links":[{"url":"u","URL":"v"}]}}`,
		`{"kind":"Component","metadata":{"name":"a"},"spec":{"big":1e400}}`,
		`{"kind":"Component","metadata":{"name":"a"},"spec":{"n":01}}`,
		`{"kind":"Component","metadata":{"name":"a"},"spec":{"n":1.}}`,
		`{"kind":"Component","metadata":{"name":"a"},"spec":{"n":-}}`,
		`{"kind":"Component","metadata":{"name":"a\xff"}}`, // invalid UTF-8
		`{"kind":"Component","metadata":{"name":"a"}} x`,
		`{"kind":"Component","metadata":{"name":"a"},}`,
		`{"kind":"Comp` + "\n" + `onent"}`,
		`null`,
		`[]`,
		``,
		`{"spec":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70) + `}`,
		`{"spec":{"a":` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000) + `}}`,
	} {
		sameAsUnmarshal(t, "case", []byte(doc))
	}
}

// FuzzDecodeDocument checks DecodeDocument against json.Unmarshal on any
// input: the same entity, or an error from both.
func FuzzDecodeDocument(f *testing.F) {
	for _, doc := range documents(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) { sameAsUnmarshal(t, "fuzz", doc) })
}

// BenchmarkDecodeDocument decodes a stored Component document, as the
// owner command does with the entity it asks about.
func BenchmarkDecodeDocument(b *testing.B) {
	doc := []byte(`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"service-42","description":"Synthetic service 42","annotations":{"backstage.io/source-location":"url:https://git.example.com/acme/service-42"},"tags":["go","synthetic"]},"spec":{"lifecycle":"production","owner":"team-7","providesApis":["service-42-api"],"system":"system-3","type":"service"}}`)
	for _, bc := range []struct {
		name   string
		decode func() error
	}{
		{"DecodeDocument", func() error { _, err := catalog.DecodeDocument(doc); return err }},
		{"json.Unmarshal", func() error { var e catalog.Entity; return json.Unmarshal(doc, &e) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
