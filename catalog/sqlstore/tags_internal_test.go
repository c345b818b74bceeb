package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeTags checks the fast path of decodeTags against encoding/json
// on what the store writes (json.Marshal of the tags), hostile tags
// included.
func TestDecodeTags(t *testing.T) {
	for _, tags := range [][]string{
		{},
		{"go"},
		{"java", "c++", "c#", "k8s:prod", "team-a"},
		{"a,b"},
		{`quote"d`, "back\\slash"},
		{"sp ace", "tab\t", "<html>&", "ünïcode", ""},
		{",", `"`, `","`},
	} {
		b, err := json.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeTags(string(b))
		if err != nil {
			t.Errorf("decodeTags(%s): %v", b, err)
			continue
		}
		if diff := cmp.Diff(tags, got); diff != "" {
			t.Errorf("decodeTags(%s) (-want +got):\n%s", b, diff)
		}
	}
	if _, err := decodeTags(`["unterminated`); err == nil {
		t.Errorf(`decodeTags(["unterminated) = nil error, want one`)
	}
}
