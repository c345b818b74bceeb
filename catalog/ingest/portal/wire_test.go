package portal

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

func TestMetadataKeysKnown(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"items":[{"kind":"Group","metadata":{"name":"a","uid":"u","etag":"e"}}],"pageInfo":{}}`, true},
		{`{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b","custom":1}}]}`, false},
		{`{ "items" : [ { "metadata" : { "name" : "a" , "x" : {"name": 1} } } ] }`, false},
		{`{"items":[{"metadata":{"annotations":{"custom":"x"},"name":"a"},"spec":{"custom":1}}]}`, true},
		{`{"items":[{"metadata":{"links":[{"url":"u","custom":1}],"tags":["a","b"]}}]}`, true},
		{`{"items":[{"metadata":{"name":"a,\"custom\":1"}}]}`, true},
		{`{"items":[{"metadata":{"na\u006de":"a"}}]}`, false},
		{`{"\u0069tems":[{"metadata":{"custom":1}}]}`, false},
		{`{"items":[null,{"metadata":{"name":"a"}}]}`, true},
		{`{"items":[{"spec":{"metadata":{"custom":1}}}]}`, true},
		{`{"items":[{"metadata":{"name":"a"}`, false},
		{`{"items":[]}`, true},
	}
	for _, tt := range tests {
		if got := metadataKeysKnown([]byte(tt.in)); got != tt.want {
			t.Errorf("metadataKeysKnown(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestDecodeEntitiesExtra: a metadata key Backstage allows but portalbot
// does not name is kept in Extra, as catalog.Metadata's decoder keeps it;
// pages without one decode to the same entities by the fast path.
func TestDecodeEntitiesExtra(t *testing.T) {
	p, err := decodeEntities([]byte(`{"items":[{"kind":"Group","metadata":{"name":"a","annotations":{"x":"y"},"customField":{"k":[1,2]}}},null]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"customField": map[string]any{"k": []any{1.0, 2.0}}}
	if len(p.Items) != 2 || p.Items[1] != nil {
		t.Fatalf("decodeEntities = %d items, want 2, the second nil", len(p.Items))
	}
	m := p.Items[0].Metadata
	if m.Name != "a" || m.Annotations["x"] != "y" || !reflect.DeepEqual(m.Extra, want) {
		t.Errorf("decodeEntities metadata = %+v, want name a, annotation x, Extra %v", m, want)
	}
	text := `{"items":[{"apiVersion":"v1","kind":"Group","metadata":{"name":"a","namespace":"ns","title":"T","description":"D",` +
		`"labels":{"l":"1"},"annotations":{"x":"y"},"tags":["t"],"links":[{"url":"u","title":"U"}],"uid":"i","etag":"e"},` +
		`"spec":{"type":"team"},"relations":[{"type":"hasMember","targetRef":"user:ns/b"}]}],"pageInfo":{"nextCursor":"c"}}`
	fast, err := decodeEntities([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var slow page[*catalog.Entity]
	if err := json.Unmarshal([]byte(text), &slow); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast.Items[0], slow.Items[0]) || fast.PageInfo != slow.PageInfo {
		t.Errorf("decodeEntities fast path = %+v, catalog's decoder %+v", fast.Items[0], slow.Items[0])
	}
	if _, err := decodeEntities([]byte(`{"items":[{"metadata":{"name":1}}]}`)); err == nil {
		t.Errorf("decodeEntities(name 1) succeeded, want an error")
	}
}
