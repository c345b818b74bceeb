package portal

import (
	"reflect"
	"testing"
)

func TestOnlyKnownKeys(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"name":"a","uid":"u","etag":"e"}`, true},
		{`{"name":"a","custom":1}`, false},
		{`{ "name" : "a" , "x" : {"name": 1} }`, false},
		{`{"annotations":{"custom":"x"},"name":"a"}`, true},
		{`{"links":[{"url":"u","custom":1}],"tags":["a","b"]}`, true},
		{`{"name":"a,\"custom\":1"}`, true},
		{`{"na\u006de":"a"}`, false},
		{`{"name":"a"`, false},
		{`{}`, true},
	}
	for _, tt := range tests {
		if got := onlyKnownKeys([]byte(tt.in)); got != tt.want {
			t.Errorf("onlyKnownKeys(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestDecodeMetadataExtra: a metadata key Backstage allows but portalbot
// does not name is kept in Extra, as catalog.Metadata's decoder keeps it.
func TestDecodeMetadataExtra(t *testing.T) {
	m, err := decodeMetadata([]byte(`{"name":"a","annotations":{"x":"y"},"customField":{"k":[1,2]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"customField": map[string]any{"k": []any{1.0, 2.0}}}
	if m.Name != "a" || m.Annotations["x"] != "y" || !reflect.DeepEqual(m.Extra, want) {
		t.Errorf("decodeMetadata = %+v, want name a, annotation x, Extra %v", m, want)
	}
	m, err = decodeMetadata([]byte(`{"name":"a","annotations":{"x":"y"}}`))
	if err != nil || m.Name != "a" || m.Annotations["x"] != "y" || m.Extra != nil {
		t.Errorf("decodeMetadata(known keys) = %+v, %v", m, err)
	}
	if _, err := decodeMetadata([]byte(`{"name":1}`)); err == nil {
		t.Errorf("decodeMetadata(name 1) succeeded, want an error")
	}
}
