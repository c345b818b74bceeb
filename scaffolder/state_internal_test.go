package scaffolder

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFormState(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var s stateStore
	tests := []struct {
		name   string
		st     formState
		inline bool
	}{
		{"small", formState{Template: "template:default/x", Step: 1, Values: map[string]any{"name": "a"}}, true},
		{"large", formState{Template: "template:default/x", Step: 2, Values: map[string]any{"text": strings.Repeat("x", 4000)}}, false},
		{"secret", formState{Template: "template:default/x", Step: 1, Values: map[string]any{}, Secrets: map[string]string{"token": "s3cret"}}, false},
	}
	for _, tt := range tests {
		raw, err := s.encode(tt.st, now)
		if err != nil {
			t.Fatalf("encode(%s): %v", tt.name, err)
		}
		if len(raw) > 3000 || strings.Contains(raw, "s3cret") || strings.Contains(raw, "xxxx") != tt.inline && tt.name == "large" {
			t.Errorf("encode(%s) = %d bytes %q…", tt.name, len(raw), abbrevN(raw, 80))
		}
		if inline := !strings.Contains(raw, `"id"`); inline != tt.inline {
			t.Errorf("encode(%s) inline = %v, want %v", tt.name, inline, tt.inline)
		}
		got, err := s.decode(raw, now.Add(time.Minute))
		if err != nil {
			t.Fatalf("decode(%s): %v", tt.name, err)
		}
		if got.Template != tt.st.Template || got.Step != tt.st.Step || !reflect.DeepEqual(got.Values, tt.st.Values) || !reflect.DeepEqual(got.Secrets, tt.st.Secrets) {
			t.Errorf("decode(encode(%s)) = %+v, want %+v", tt.name, got, tt.st)
		}
		if !tt.inline {
			if _, err := s.decode(raw, now.Add(stateTTL+time.Second)); err == nil {
				t.Errorf("decode(%s) after the TTL succeeded", tt.name)
			}
		}
	}
}
