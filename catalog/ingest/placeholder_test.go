package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

const openapi = "openapi: 3.0.0\ninfo:\n  title: Pets\n  version: 1.2.3\npaths: {}\n"

func api(name, target string) string {
	return `apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: ` + name + `
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ` + target + "\n"
}

// TestPlaceholders is issue 10's "done when" for sync: $text, $json and
// $yaml with relative paths are resolved and stored; an escaping path, a
// missing file, a disallowed URL and a symlink out of the repository each
// give a processing error with file and line, and the entity keeps its
// last good state.
func TestPlaceholders(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		files := map[string]string{
			"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./apis/*.yaml, ./svc.yaml]\n",
			"apis/openapi.yaml": openapi,
			"apis/pets.yaml":    api("pets", "./openapi.yaml"),
			"apis/escape.yaml":  api("escape", "./openapi.yaml"),
			"apis/missing.yaml": api("missing", "/apis/openapi.yaml"),
			"apis/remote.yaml":  api("remote", "openapi.yaml"),
			"apis/link.yaml":    api("link", "./openapi.yaml"),
			"svc.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
spec:
  type: service
  lifecycle: production
  owner: team-a
  config:
    $json: ./conf/settings.json
  extra:
    $yaml: ./conf/extra.yaml
`,
			"conf/settings.json": `{"replicas": 3, "regions": ["eu", "us"]}`,
			"conf/extra.yaml":    "tier: gold\n",
		}
		repo := newRepo(t, files)
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "apis", Repo: repo}
		res := mustSync(t, s, src)
		if len(res.Errors) != 0 {
			t.Fatalf("first Sync errors: %v", res.Errors)
		}
		def, err := st.Definition(ctx, catalog.MustParseRef("api:pets"))
		if err != nil || def != openapi {
			t.Errorf("Definition(api:pets) = %q, %v; want the file's text", def, err)
		}
		svc := entity(t, st, "component:svc")
		conf, _ := svc.Spec["config"].(map[string]any)
		if conf == nil || conf["replicas"] != 3 && conf["replicas"] != float64(3) && conf["replicas"] != int64(3) {
			t.Errorf("svc spec.config = %#v, want the parsed JSON", svc.Spec["config"])
		}
		if extra, _ := svc.Spec["extra"].(map[string]any); extra["tier"] != "gold" {
			t.Errorf("svc spec.extra = %#v, want the parsed YAML", svc.Spec["extra"])
		}

		// Changing only the referenced file re-processes the descriptor.
		commit(t, repo, map[string]string{"apis/openapi.yaml": strings.Replace(openapi, "1.2.3", "2.0.0", 1)})
		res = mustSync(t, s, src)
		if def, _ := st.Definition(ctx, catalog.MustParseRef("api:pets")); !strings.Contains(def, "2.0.0") {
			t.Errorf("Definition(api:pets) after its file changed = %q (sync %+v)", def, res)
		}

		// Break four APIs in four ways.
		if _, err := synth.Commit(repo, "break", map[string]synth.Change{
			"apis/escape.yaml":  synth.Write(api("escape", "../../etc/passwd")),
			"apis/missing.yaml": synth.Write(api("missing", "./nope.yaml")),
			"apis/remote.yaml":  synth.Write(api("remote", "https://raw.githubusercontent.com/OAI/x/main/api.yaml")),
			"apis/link.yaml":    synth.Write(api("link", "./passwd")),
			"apis/passwd":       {Data: []byte("/etc/passwd"), Symlink: true},
		}); err != nil {
			t.Fatal(err)
		}
		res = mustSync(t, s, src)
		want := map[string]string{
			"apis/escape.yaml":  "outside the repository",
			"apis/missing.yaml": "no file apis/nope.yaml",
			"apis/remote.yaml":  "is not allowed",
			"apis/link.yaml":    "symbolic link",
		}
		for file, msg := range want {
			errs := errorsOf(res, file)
			if len(errs) != 1 || !strings.Contains(errs[0].Message, msg) || errs[0].Line != 10 {
				t.Errorf("errors for %s = %v, want one at line 10 mentioning %q", file, errs, msg)
			}
		}
		for _, name := range []string{"escape", "missing", "remote", "link"} {
			def, err := st.Definition(ctx, catalog.MustParseRef("api:"+name))
			if err != nil || !strings.Contains(def, "openapi: 3.0.0") {
				t.Errorf("Definition(api:%s) after a bad placeholder = %q, %v; want the last good one", name, def, err)
			}
		}
	})
}
