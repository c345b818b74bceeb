package catalog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// hostile are strings that encoding/json escapes or that look like JSON.
var hostile = []string{
	"", "plain", `quote"d`, `back\slash`, `ends with \`, "<html>&amp;", "tab\there", "nul\x00", "bad\xffutf8",
	"\u2028\u2029", "ünïcode", "emoji 🙂", "\x7f", `"x":"y",`, "}", "{",
}

// randomEntity makes an entity of random shape with hostile strings in
// every field, extra metadata fields, nested spec values and relations
// (which the document leaves out).
func randomEntity(rng *rand.Rand) *catalog.Entity {
	str := func() string { return hostile[rng.IntN(len(hostile))] }
	var value func(depth int) any
	value = func(depth int) any {
		switch n := rng.IntN(7); {
		case n == 0 && depth < 3:
			m := map[string]any{}
			for range rng.IntN(4) {
				m[str()] = value(depth + 1)
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
			return rng.Float64() * math.Pow(10, float64(rng.IntN(40)-20))
		case n == 4:
			return rng.IntN(2) == 0
		case n == 5:
			return nil
		}
		return str()
	}
	e := &catalog.Entity{APIVersion: []string{"backstage.io/v1alpha1", str()}[rng.IntN(2)], Kind: []string{"Component", str()}[rng.IntN(2)],
		Metadata: catalog.Metadata{Name: str(), Namespace: str(), Title: str(), Description: str(), UID: str(), Etag: str()}}
	if rng.IntN(2) == 0 {
		e.Metadata.Tags = []string{str(), str()}
		e.Metadata.Labels = map[string]string{str(): str()}
		e.Metadata.Annotations = map[string]string{str(): str(), "b": str()}
		e.Metadata.Links = []catalog.Link{{URL: str(), Title: str(), Icon: str(), Type: str()}}
	}
	if rng.IntN(3) == 0 {
		e.Metadata.Extra = map[string]any{str(): value(1), "uid": "shadowed", "zz": value(0)}
	}
	switch rng.IntN(4) {
	case 0: // no spec
	case 1:
		e.Spec = map[string]any{} // empty, omitted
	default:
		e.Spec = map[string]any{}
		for range 1 + rng.IntN(5) {
			e.Spec[str()] = value(0)
		}
	}
	if rng.IntN(2) == 0 {
		e.Relations = []catalog.Relation{{Type: "ownedBy", TargetRef: str()}}
	}
	return e
}

// refMetadata is Metadata without its methods: encoding/json's default
// encoding of the named fields.
type refMetadata catalog.Metadata

// refDocument is Document as encoding/json alone wrote it: the entity
// without relations, uid and etag, its metadata's named fields by
// reflection and its extra fields merged in by key.
func refDocument(e *catalog.Entity) ([]byte, error) {
	m := e.Metadata
	m.UID, m.Etag = "", ""
	meta, err := json.Marshal(refMetadata(m))
	if err != nil {
		return nil, err
	}
	if len(m.Extra) > 0 {
		all := map[string]json.RawMessage{}
		if err := json.Unmarshal(meta, &all); err != nil {
			return nil, err
		}
		for k, v := range m.Extra {
			switch k {
			case "name", "namespace", "title", "description", "labels", "annotations", "tags", "links", "uid", "etag":
				continue
			}
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			all[k] = raw
		}
		if meta, err = json.Marshal(all); err != nil {
			return nil, err
		}
	}
	return json.Marshal(struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   json.RawMessage `json:"metadata"`
		Spec       map[string]any  `json:"spec,omitempty"`
	}{e.APIVersion, e.Kind, meta, e.Spec})
}

// TestDocumentMatchesMarshal checks that Document is what encoding/json
// alone made of the entity without relations, uid and etag, byte for
// byte, its errors json.Marshal's, and that Stamp
// sets the uid and etag it always did, on the fixtures and on random
// entities.
func TestDocumentMatchesMarshal(t *testing.T) {
	var ents []*catalog.Entity
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, catalog.ParseFile(bytes.NewReader(data), p).Entities...)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		ents = append(ents, randomEntity(rng))
	}
	bad := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "nan"}, Spec: map[string]any{"x": math.NaN()}}
	badMeta := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "inf", Extra: map[string]any{"x": math.Inf(1)}}}
	long := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: strings.Repeat("n", 300)}}
	special := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "special"}, Spec: map[string]any{
		"int": 3, "negzero": math.Copysign(0, -1), "big": 1e21, "below": 999999999999999999999.0, "small": 1e-7,
		"edge": 1e-6, "tiny": 5e-324, "max": math.MaxFloat64, "i64": int64(math.MinInt64), "number": json.Number("12"),
		"strings": []string{"a", "<"}, "stringmap": map[string]string{"b": "&"}, "nilmap": map[string]any(nil),
		"nilslice": []any(nil), "u8": uint8(7), "f32": float32(0.1), "bytes": []byte("hi"), "": "empty key",
	}}
	deep := map[string]any{}
	for d, i := deep, 0; i < 300; i++ {
		next := map[string]any{}
		d["d"] = next
		d = next
	}
	cycle := map[string]any{}
	cycle["self"] = cycle
	ents = append(ents, bad, badMeta, long, special,
		&catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "deep"}, Spec: deep},
		&catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "cycle"}, Spec: cycle})
	for _, e := range ents {
		want, wantErr := refDocument(e)
		got, err := e.Document()
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("Document(%s) = %s, %v; want %s, %v", e.Ref(), got, err, want, wantErr)
		}
		if wantErr != nil {
			// The error is json.Marshal's for the entity.
			c := *e
			c.Relations = nil
			c.Metadata.UID, c.Metadata.Etag = "", ""
			if _, mErr := json.Marshal(&c); fmt.Sprint(err) != fmt.Sprint(mErr) {
				t.Errorf("Document(%s) error = %v, want %v", e.Ref(), err, mErr)
			}
			continue
		}
		sum := sha256.Sum256(want)
		u := sha256.Sum256([]byte("portalbot-uid:" + e.Ref().String()))
		h := hex.EncodeToString(u[:16])
		wantUID := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		s := *e
		if err := s.Stamp(); err != nil {
			t.Fatalf("Stamp(%s): %v", e.Ref(), err)
		}
		if s.Metadata.Etag != hex.EncodeToString(sum[:12]) || s.Metadata.UID != wantUID {
			t.Errorf("Stamp(%s) set uid %q, etag %q; want %q, %q", e.Ref(), s.Metadata.UID, s.Metadata.Etag, wantUID, hex.EncodeToString(sum[:12]))
		}
	}
}

// TestAppendJSONString checks AppendJSONString against json.Marshal.
func TestAppendJSONString(t *testing.T) {
	for _, s := range append(hostile, "backstage.io/v1alpha1", "c++", "k8s:prod#1", "\x1f", " ") {
		want, _ := json.Marshal(s)
		if got := catalog.AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendJSONString(x, %q) = %s, want x%s", s, got, want)
		}
	}
}
