package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"gopkg.in/yaml.v3"

	"github.com/portalbot/portalbot/bot"
)

// exportCatalog is a small catalog whose relations point both ways: the
// group owns the component and the API from other files, the component
// consumes an API in another namespace.
var exportCatalog = map[string]string{
	"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec:
  targets: [./org.yaml, ./svc/catalog-info.yaml]
`,
	"org.yaml": `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  slack-channel: "#payments"
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ada}
spec: {memberOf: [payments]}
`,
	"svc/catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  annotations: {backstage.io/techdocs-ref: "dir:."}
spec:
  type: service
  lifecycle: production
  owner: payments
  providesApis: [payments-rest]
  consumesApis: ["api:fraud/score"]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-rest}
spec: {type: openapi, lifecycle: production, owner: payments, definition: "openapi: 3.0.0"}
`,
}

// commitAll makes dir a Git repository with everything in one commit.
func commitAll(t *testing.T, dir string) {
	t.Helper()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(1700000000, 0)}
	if _, err := w.Commit("catalog", &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
		t.Fatal(err)
	}
}

// exportDB syncs exportCatalog into a fresh SQLite database and returns its URL.
func exportDB(t *testing.T) string {
	t.Helper()
	repo := writeFiles(t, exportCatalog)
	commitAll(t, repo)
	db := "sqlite:" + filepath.Join(t.TempDir(), "export.db")
	if code, _, errs := runSync(t, t.TempDir(), "--db", db, "--repo", repo); code != 0 {
		t.Fatalf("sync exit %d: %s", code, errs)
	}
	return db
}

func runExport(t *testing.T, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := bot.Main(context.Background(), append([]string{"export"}, args...), env)
	return code, out.Bytes(), errb.String()
}

type exported struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Metadata   map[string]any `json:"metadata" yaml:"metadata"`
	Spec       map[string]any `json:"spec" yaml:"spec"`
	Relations  []struct {
		Type      string `json:"type" yaml:"type"`
		TargetRef string `json:"targetRef" yaml:"targetRef"`
	} `json:"relations" yaml:"relations"`
}

func (e exported) ref() string {
	return strings.ToLower(e.Kind) + ":" + e.Metadata["namespace"].(string) + "/" + e.Metadata["name"].(string)
}

func (e exported) rels() []string {
	var out []string
	for _, r := range e.Relations {
		out = append(out, r.Type+" "+r.TargetRef)
	}
	return out
}

func TestExportJSON(t *testing.T) {
	db := exportDB(t)
	code, first, errs := runExport(t, "--db", db)
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	_, second, _ := runExport(t, "--db", db)
	if !bytes.Equal(first, second) {
		t.Errorf("two exports of the same catalog differ:\n%s\n---\n%s", first, second)
	}
	var ents []exported
	if err := json.Unmarshal(first, &ents); err != nil {
		t.Fatalf("export is not a JSON array: %v\n%s", err, first)
	}
	var refs []string
	byRef := map[string]exported{}
	for _, e := range ents {
		if e.APIVersion == "" || e.Spec == nil {
			t.Errorf("export %s: apiVersion %q, spec %v: want both", e.ref(), e.APIVersion, e.Spec)
		}
		refs = append(refs, e.ref())
		byRef[e.ref()] = e
	}
	want := []string{"api:default/payments-rest", "component:default/payments-api", "group:default/payments", "location:default/root", "user:default/ada"}
	if strings.Join(refs, " ") != strings.Join(want, " ") {
		t.Errorf("export refs = %v, want %v (sorted, namespace explicit)", refs, want)
	}
	// Relations other entities' fields make are on their targets too, as
	// Backstage's stitching shows them; sorted by type, then target.
	wantRels := map[string][]string{
		"group:default/payments":         {"hasMember user:default/ada", "ownerOf api:default/payments-rest", "ownerOf component:default/payments-api"},
		"api:default/payments-rest":      {"apiProvidedBy component:default/payments-api", "ownedBy group:default/payments"},
		"component:default/payments-api": {"consumesApi api:fraud/score", "ownedBy group:default/payments", "providesApi api:default/payments-rest"},
		"user:default/ada":               {"memberOf group:default/payments"},
	}
	for ref, w := range wantRels {
		if got := byRef[ref].rels(); strings.Join(got, ", ") != strings.Join(w, ", ") {
			t.Errorf("export %s relations = %v, want %v", ref, got, w)
		}
	}
	if got := byRef["group:default/payments"].Metadata["slack-channel"]; got != "#payments" {
		t.Errorf("export group metadata.slack-channel = %v, want #payments (unknown metadata kept)", got)
	}
	if !bytes.Contains(first, []byte(`"relations": []`)) {
		t.Errorf("export of location:default/root has no \"relations\": [], as Backstage's API shows an entity without relations")
	}
	if md := byRef["component:default/payments-api"].Metadata; md["uid"] == nil || md["etag"] == nil {
		t.Errorf("export component metadata = %v, want uid and etag", md)
	}
}

func TestExportKindAndYAML(t *testing.T) {
	db := exportDB(t)
	code, out, errs := runExport(t, "--db", db, "--kind", "component", "--format", "yaml")
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, errs)
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var got []string
	for {
		var e exported
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("export --format yaml does not parse: %v\n%s", err, out)
		}
		got = append(got, e.ref())
		if len(e.Relations) != 3 {
			t.Errorf("yaml export %s relations = %v, want 3", e.ref(), e.rels())
		}
	}
	if len(got) != 1 || got[0] != "component:default/payments-api" {
		t.Errorf("export --kind component = %v, want [component:default/payments-api]", got)
	}
	_, again, _ := runExport(t, "--db", db, "--kind", "component", "--format", "yaml")
	if !bytes.Equal(out, again) {
		t.Errorf("two yaml exports differ")
	}

	code, out, _ = runExport(t, "--db", db, "--kind", "Template")
	if code != 0 || strings.TrimSpace(string(out)) != "[]" {
		t.Errorf("export --kind Template = %d %q, want 0 and []", code, out)
	}
	if code, _, errs := runExport(t, "--db", db, "--format", "xml"); code == 0 || !strings.Contains(errs, "--format") {
		t.Errorf("export --format xml = %d %q, want a usage error naming --format", code, errs)
	}
}
