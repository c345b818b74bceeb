package catalog

import (
	"encoding/json"
	"testing"
)

// namedOnly is what onlyNamedKeys must never contradict: data decodes as
// null or as an object every key of which has a Metadata field.
func namedOnly(data []byte) bool {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return false
	}
	for k := range raw {
		if !metadataFields[k] {
			return false
		}
	}
	return true
}

func TestOnlyNamedKeys(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{`null`, true},
		{`{}`, true},
		{` { "name" : "a" , "namespace":"default" } `, true},
		{string(mdDoc), true},
		{`{"name":"a","annotations":{"x":"}\"{","y":"[,"},"tags":["a","b\"c"],"links":[{"url":"u"}]}`, true},
		{`{"name":"a","labels":{"name":"n"},"owner-slack":"#x"}`, false},
		{`{"owner-slack":"#x","name":"a"}`, false},
		{`{"name":"a","costs":{"center":42,"shared":true}}`, false},
		{`{"name":"a","Name":"b"}`, false},         // a name of another case is kept as an extra key
		{`{"na\u006de":"a"}`, false},               // escaped: left to the full decoding
		{`{"name":"a","n":1.5e3,"b":true}`, false}, // numbers and literals skipped
		{`{"title":null,"uid":"u","etag":"e"}`, true},
	} {
		if got := onlyNamedKeys([]byte(tt.in)); got != tt.want {
			t.Errorf("onlyNamedKeys(%s) = %t, want %t", tt.in, got, tt.want)
		}
		var m Metadata
		if err := json.Unmarshal([]byte(tt.in), &m); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", tt.in, err)
		}
		if (m.Extra == nil) != namedOnly([]byte(tt.in)) {
			t.Errorf("json.Unmarshal(%s).Extra = %v", tt.in, m.Extra)
		}
	}
}

// FuzzOnlyNamedKeys checks that onlyNamedKeys never says a metadata block
// has only named keys when it has another, whatever the JSON.
func FuzzOnlyNamedKeys(f *testing.F) {
	for _, s := range []string{`{}`, `null`, string(mdDoc), `{"name":"a","x":[{"y":"]"}]}`, `{"name":"\"","tags":[1,2]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var named metadataJSON
		if json.Unmarshal(data, &named) != nil {
			return // never asked: the named fields failed to decode
		}
		if onlyNamedKeys(data) && !namedOnly(data) {
			t.Errorf("onlyNamedKeys(%q) = true, but it has other keys", data)
		}
	})
}
