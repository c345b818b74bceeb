package bot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = bot.Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodComponent = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
spec:
  type: service
  lifecycle: production
  owner: team-a
`

func TestValidateCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"catalog-info.yaml":              goodComponent,
		"services/a/catalog-info.yml":    strings.Replace(goodComponent, "payments", "svc-a", 1),
		"services/b/catalog-info.yaml":   strings.Replace(goodComponent, "  owner: team-a\n", "", 1),
		"docs/mkdocs.yml":                "site_name: docs\nnav: []\n",
		"README.md":                      "not yaml: [",
		"tpl/skeleton/catalog-info.yaml": "name: ${{ values.name }\n  bad: [",
		".git/config.yaml":               "broken: [",
	})
	code, out, errOut := runCLI(t, "validate", dir)
	if code != bot.ExitFail {
		t.Errorf("validate %s = exit %d, want %d; stderr %q", dir, code, bot.ExitFail, errOut)
	}
	want := filepath.ToSlash(filepath.Join(dir, "services/b/catalog-info.yaml")) + ":5: spec.owner: required\n" +
		"FAIL: 4 files, 2 valid entities, 1 non-descriptor document skipped; 1 problem in 1 file\n"
	if out != want {
		t.Errorf("validate output:\n%s\nwant:\n%s", out, want)
	}

	// Without the bad file everything is valid.
	if err := os.Remove(filepath.Join(dir, "services/b/catalog-info.yaml")); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "validate", "-v", dir)
	if code != bot.ExitOK {
		t.Errorf("validate -v = exit %d, want 0; output:\n%s", code, out)
	}
	for _, w := range []string{
		"tpl/skeleton: skipped (template skeleton directory)",
		"docs/mkdocs.yml:1: skipped: not an entity descriptor",
		"catalog-info.yaml: 1 valid entity",
		"ok: 3 files, 2 valid entities, 1 non-descriptor document skipped\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("validate -v output lacks %q:\n%s", w, out)
		}
	}
}

func TestValidateCommandFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"multi.yaml": goodComponent + "---\n" + strings.Replace(goodComponent, "name: payments", "name: Bad Name", 1),
	})
	f := filepath.Join(dir, "multi.yaml")
	code, out, _ := runCLI(t, "validate", f)
	if code != bot.ExitFail {
		t.Errorf("validate = exit %d, want 1", code)
	}
	wantLine := filepath.ToSlash(f) + `:13: metadata.name: "Bad Name" is not a valid name`
	if !strings.HasPrefix(out, wantLine) {
		t.Errorf("validate output = %q, want it to start with %q", out, wantLine)
	}
	if !strings.Contains(out, "FAIL: 1 file, 1 valid entity; 1 problem in 1 file") {
		t.Errorf("validate summary wrong:\n%s", out)
	}
}

func TestValidateCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string // substring of stdout+stderr
	}{
		{[]string{"validate"}, bot.ExitUsage, "no PATH given"},
		{[]string{"validate", "-nope", "x"}, bot.ExitUsage, "flag provided but not defined"},
		{[]string{"validate", filepath.Join(t.TempDir(), "missing.yaml")}, bot.ExitUsage, "no such file or directory"},
		{[]string{"validate", "--help"}, bot.ExitOK, "Usage: portalbot validate [-v] PATH..."},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(out+errOut, tt.out) {
			t.Errorf("portalbot %v = exit %d, output %q; want exit %d and %q", tt.args, code, out+errOut, tt.code, tt.out)
		}
	}
}

// TestValidateCorpus runs validate over the shared Backstage corpus when it
// is present: every descriptor must pass.
func TestValidateCorpus(t *testing.T) {
	const corpus = "../../shared/corpus/backstage"
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared Backstage corpus must be present in CI: %v", err)
		}
		t.Skipf("corpus not present: %v", err)
	}
	code, out, _ := runCLI(t, "validate", corpus)
	if code != bot.ExitOK {
		t.Errorf("validate corpus = exit %d:\n%s", code, out)
	}
}

// TestValidateCatalogModel: validate used to call an AiResource valid with
// no word, while sync with the default catalog_model refuses it. Now it is
// valid with a note by default, a problem with --catalog-model default (as
// sync), and plainly valid with --catalog-model alpha.
func TestValidateCatalogModel(t *testing.T) {
	dir := writeFiles(t, map[string]string{"catalog-info.yaml": goodComponent + `---
apiVersion: backstage.io/v1alpha1
kind: AiResource
metadata:
  name: review-skill
spec:
  type: skill
  lifecycle: production
  owner: team-a
`})
	for _, tt := range []struct {
		model    string
		code     int
		contains string
		summary  string
	}{
		{"", bot.ExitOK, "catalog-info.yaml:10: note: kind: AiResource is defined only by Backstage's alpha catalog model", "ok: 1 file, 2 valid entities"},
		{"default", bot.ExitFail, "catalog-info.yaml:10: kind: AiResource is defined only by Backstage's alpha catalog model; set catalog_model: alpha", "FAIL: 1 file, 1 valid entity; 1 problem in 1 file"},
		{"alpha", bot.ExitOK, "", "ok: 1 file, 2 valid entities"},
	} {
		args := []string{"validate"}
		if tt.model != "" {
			args = append(args, "--catalog-model", tt.model)
		}
		code, out, errOut := runCLI(t, append(args, dir)...)
		if code != tt.code || !strings.Contains(out, tt.summary) || (tt.contains != "" && !strings.Contains(out, tt.contains)) {
			t.Errorf("validate --catalog-model %q = exit %d\n%s%s\nwant exit %d with %q and %q", tt.model, code, out, errOut, tt.code, tt.contains, tt.summary)
		}
		if tt.model == "alpha" && strings.Contains(out, "note:") {
			t.Errorf("validate --catalog-model alpha printed a note:\n%s", out)
		}
	}
	if code, _, errOut := runCLI(t, "validate", "--catalog-model", "beta", dir); code != bot.ExitUsage || !strings.Contains(errOut, "want any, default or alpha") {
		t.Errorf("validate --catalog-model beta = exit %d, %q; want a usage error", code, errOut)
	}
}
