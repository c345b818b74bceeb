package catalog_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/portalbot/portalbot/catalog"
)

// Backstage keeps metadata fields it has no name for (EntityMeta allows any
// key); so must the model, through parsing, JSON (the store) and YAML.
func TestMetadataExtraRoundTrip(t *testing.T) {
	e := entity(t, `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: c
  owner-slack: "#payments"
  costs: {center: 42, shared: true}
spec: {type: service, lifecycle: production, owner: g}
`)
	want := map[string]any{"owner-slack": "#payments", "costs": map[string]any{"center": int64(42), "shared": true}}
	if diff := cmp.Diff(want, e.Metadata.Extra); diff != "" {
		t.Fatalf("Parse metadata.Extra (-want +got):\n%s", diff)
	}
	doc, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"owner-slack":"#payments"`) || !strings.Contains(string(doc), `"costs":{"center":42,"shared":true}`) {
		t.Errorf("json.Marshal(entity) = %s, want the extra metadata inline", doc)
	}
	again, err := json.Marshal(e)
	if err != nil || string(again) != string(doc) {
		t.Errorf("json.Marshal is not deterministic:\n%s\n%s", doc, again)
	}
	var back catalog.Entity
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]any{"owner-slack": "#payments", "costs": map[string]any{"center": float64(42), "shared": true}}
	if diff := cmp.Diff(wantJSON, back.Metadata.Extra); diff != "" {
		t.Errorf("json.Unmarshal metadata.Extra (-want +got):\n%s", diff)
	}
	if back.Metadata.Name != "c" {
		t.Errorf("json.Unmarshal metadata.name = %q, want c", back.Metadata.Name)
	}
	y, err := yaml.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := yaml.Unmarshal(y, &generic); err != nil {
		t.Fatal(err)
	}
	md := generic["metadata"].(map[string]any)
	if md["owner-slack"] != "#payments" || md["name"] != "c" {
		t.Errorf("yaml.Marshal(entity) metadata = %v, want name and owner-slack", md)
	}
}

// Without extra fields the JSON is what it was before Extra existed, so
// stored etags do not change.
func TestMetadataNoExtraUnchanged(t *testing.T) {
	m := catalog.Metadata{Name: "c", Namespace: "ns", Tags: []string{"go"}}
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"c","namespace":"ns","tags":["go"]}`; string(got) != want {
		t.Errorf("json.Marshal(%+v) = %s, want %s", m, got, want)
	}
	var back catalog.Metadata
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Extra != nil {
		t.Errorf("json.Unmarshal(%s).Extra = %v, want nil", got, back.Extra)
	}
}
