package catalog_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/portalbot/portalbot/catalog"
)

func parseFixture(t *testing.T, path string) catalog.ParseResult {
	t.Helper()
	f, err := os.Open(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return catalog.ParseFile(f, path)
}

func errorStrings(errs []catalog.ProcessingError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.String())
	}
	return out
}

func entityRefs(es []*catalog.Entity) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s@%d", e.Ref(), e.Origin.Line))
	}
	return out
}

func TestParseBrokenFixtures(t *testing.T) {
	const name = "1-63 characters of [A-Za-z0-9] separated by any of [-_.]"
	tests := []struct {
		file     string
		errors   []string
		entities []string
	}{
		{
			file:   "testdata/broken/bad-name.yaml",
			errors: []string{`4: metadata.name: "Payments API!" is not a valid name; expected ` + name, `5: metadata.namespace: "Shop_Floor" is not a valid namespace; expected 1-63 characters of [a-z0-9] separated by [-]`},
		},
		{
			file:   "testdata/broken/missing-owner.yaml",
			errors: []string{"5: spec.owner: required"},
		},
		{
			file:   "testdata/broken/missing-metadata.yaml",
			errors: []string{"2: metadata: required"},
		},
		{
			file:   "testdata/broken/syntax-error.yaml",
			errors: []string{"5: YAML syntax: found unexpected end of stream"},
		},
		{
			file: "testdata/broken/bad-second-doc.yaml",
			errors: []string{
				`14: metadata.tags.0: "Go" is not a valid tag; expected 1-63 characters of [a-z0-9:+#] separated by [-]`,
				`19: spec.dependsOn.0: "ledger" must name its kind (kind:[namespace/]name)`,
			},
			entities: []string{"component:default/first-ok@1", "group:default/third-ok@21"},
		},
		{
			file:   "testdata/broken/alias-bomb.yaml",
			errors: []string{"14: aliases expand to too many values (an alias bomb?)"},
		},
		{
			file:   "testdata/broken/deep-nesting.yaml",
			errors: []string{"9: nested more than 64 levels deep"},
		},
		{
			file:   "testdata/broken/garbage.yaml",
			errors: []string{"3: invalid UTF-8 (binary content?), not a YAML text file"},
		},
		{
			file: "testdata/broken/wrong-types.yaml",
			errors: []string{
				"6: metadata.labels.version: must be a string, not a number (quote it)",
				"8: metadata.annotations.backstage.io/orphan: must be a string, not a boolean (quote it)",
				"9: metadata.tags: must be a list of strings, not a string",
				"12: spec.lifecycle: must be a string, not a list",
				"14: spec.providesApis: must be a list of strings, not a string",
				`15: owner: unknown root field "owner"; an entity has apiVersion, kind, metadata, spec, relations and status`,
			},
		},
		{
			file: "testdata/broken/unknown-kind.yaml",
			errors: []string{
				`2: kind: unknown kind "Service"; portalbot knows API, AiResource, Component, Domain, Group, Location, Resource, System, Template, User`,
				`8: kind: "component" must be written "Component"`,
				`16: apiVersion: "backstage.io/v1beta2" is not a version of kind Template; use scaffolder.backstage.io/v1beta3`,
			},
		},
		{
			file: "testdata/broken/duplicates.yaml",
			errors: []string{
				`7: mapping key "type" already defined at line 6`,
				"18: group:default/once is already defined at line 10",
			},
			entities: []string{"group:default/once@10"},
		},
		{
			file: "testdata/broken/bad-metadata.yaml",
			errors: []string{
				`6: metadata.labels.a/b/c: "a/b/c" is not a valid label key; expected an optional DNS subdomain prefix and a slash, then ` + name,
				`7: metadata.labels.good: "not ok!" is not a valid label value; expected "" or ` + name,
				`9: metadata.annotations.-bad-: "-bad-" is not a valid annotation key; expected an optional DNS subdomain prefix and a slash, then ` + name,
				`11: metadata.links.0.url: "not a url" is not a valid absolute URL`,
				`12: metadata.links.0.icon: "bad icon" is not a valid icon key; expected ` + name,
				"13: metadata.links.1.url: required",
				"21: spec.definition: required (or spec.remotes)",
				"26: spec: required",
				"37: spec.parameters: must be a mapping or a list of mappings, not a string",
				"39: spec.steps.0.action: required",
				"39: spec.steps.0.id: must be a string, not a number",
			},
		},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			res := parseFixture(t, tt.file)
			var want []string
			for _, e := range tt.errors {
				want = append(want, tt.file+":"+e)
			}
			if diff := cmp.Diff(want, errorStrings(res.Errors)); diff != "" {
				t.Errorf("ParseFile(%s) errors (-want +got):\n%s", tt.file, diff)
			}
			if diff := cmp.Diff(tt.entities, entityRefs(res.Entities)); diff != "" {
				t.Errorf("ParseFile(%s) entities (-want +got):\n%s", tt.file, diff)
			}
			for _, e := range res.Errors {
				if e.Source != "" {
					t.Errorf("ParseFile(%s) set Source %q, want it left to the sync", tt.file, e.Source)
				}
			}
		})
	}
}

func TestParseValidFixtures(t *testing.T) {
	tests := []struct {
		file     string
		entities []string
		skipped  []int
	}{
		{
			file: "testdata/valid/shop.yaml",
			entities: []string{
				"domain:default/commerce@2", "system:default/checkout@10", "component:shop/payments-api@18",
				"api:shop/payments-rest@46", "resource:shop/payments-db@58", "group:shop/payments@68",
				"user:shop/ada@79", "location:default/shop-more@90", "template:default/new-service@98",
				"airesource:default/review-rules@116",
			},
		},
		{
			file:     "testdata/valid/anchors.yaml",
			entities: []string{"component:default/base-service@2", "component:default/other-service@13"},
		},
		{file: "testdata/valid/not-descriptors.yaml", skipped: []int{2, 6, 11}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			res := parseFixture(t, tt.file)
			if len(res.Errors) > 0 {
				t.Errorf("ParseFile(%s) errors: %v", tt.file, errorStrings(res.Errors))
			}
			if diff := cmp.Diff(tt.entities, entityRefs(res.Entities)); diff != "" {
				t.Errorf("ParseFile(%s) entities (-want +got):\n%s", tt.file, diff)
			}
			if diff := cmp.Diff(tt.skipped, res.Skipped); diff != "" {
				t.Errorf("ParseFile(%s) skipped (-want +got):\n%s", tt.file, diff)
			}
			for _, e := range res.Entities {
				if e.Origin.Path != tt.file {
					t.Errorf("%s: Origin.Path = %q, want %q", e.Ref(), e.Origin.Path, tt.file)
				}
				if len(e.Metadata.UID) != 36 || len(e.Metadata.Etag) != 24 {
					t.Errorf("%s: not stamped: uid %q etag %q", e.Ref(), e.Metadata.UID, e.Metadata.Etag)
				}
			}
		})
	}
}

func TestParseDecodesValues(t *testing.T) {
	res := parseFixture(t, "testdata/valid/anchors.yaml")
	if len(res.Entities) != 2 {
		t.Fatalf("ParseFile(anchors.yaml) = %d entities, want 2", len(res.Entities))
	}
	other := res.Entities[1]
	base := map[string]any{"type": "service", "lifecycle": "production", "owner": "platform"}
	want := map[string]any{"<<": base, "type": "service", "lifecycle": "experimental", "owner": "platform"}
	if diff := cmp.Diff(want, other.Spec); diff != "" {
		t.Errorf("spec with a merge key (-want +got):\n%s", diff)
	}
	if got := other.Metadata.Labels["tier"]; got != "2" {
		t.Errorf("aliased label tier = %q, want %q", got, "2")
	}

	shop := parseFixture(t, "testdata/valid/shop.yaml")
	c := shop.Entities[2]
	if diff := cmp.Diff([]string{"go", "payments", "pci-dss"}, c.Metadata.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	wantLink := []catalog.Link{{URL: "https://grafana.example.com/d/payments", Title: "Dashboard", Icon: "dashboard"}}
	if diff := cmp.Diff(wantLink, c.Metadata.Links); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if got := c.Metadata.Annotations["github.com/project-slug"]; got != "shop/payments" {
		t.Errorf("annotation = %q, want shop/payments", got)
	}
}

func TestParseStampIsStable(t *testing.T) {
	a := parseFixture(t, "testdata/valid/shop.yaml").Entities[2]
	b := parseFixture(t, "testdata/valid/shop.yaml").Entities[2]
	if a.Metadata.UID != b.Metadata.UID || a.Metadata.Etag != b.Metadata.Etag {
		t.Errorf("two parses stamped %s/%s and %s/%s", a.Metadata.UID, a.Metadata.Etag, b.Metadata.UID, b.Metadata.Etag)
	}
	src, err := os.ReadFile("testdata/valid/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(src, []byte("lifecycle: production\n  owner: payments\n  system"), []byte("lifecycle: deprecated\n  owner: payments\n  system"), 1)
	es, errs := catalog.Parse(bytes.NewReader(changed), "shop.yaml")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if es[2].Metadata.UID != a.Metadata.UID {
		t.Errorf("uid changed with the spec: %s != %s", es[2].Metadata.UID, a.Metadata.UID)
	}
	if es[2].Metadata.Etag == a.Metadata.Etag {
		t.Errorf("etag %s did not change with the spec", a.Metadata.Etag)
	}
}

func TestParseHostile(t *testing.T) {
	big := strings.Repeat("#", catalog.MaxFileSize+1)
	tests := []struct {
		name, in, want string
	}{
		{"too big", big, "x.yaml: file is larger than 10 MiB"},
		{"NUL", "kind: Component\x00", "x.yaml:1: binary content (a NUL byte), not a YAML text file"},
		{"control char", "a: 1\nb: \x07\n", "x.yaml:2: control character U+0007 is not allowed in YAML"},
		{"self alias", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: &s\n  type: team\n  children: []\n  x: *s\n", "x.yaml:7: nested more than 64 levels deep"},
		{"infinity", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, children: [], x: .inf}\n", `x.yaml:4: ".inf" cannot be represented in JSON`},
		{"complex key", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec:\n  ? [a, b]\n  : c\n", "x.yaml:5: mapping keys must be plain values, not lists or mappings"},
		{"deep block", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: " + strings.Repeat("{a: ", 5000) + strings.Repeat("}", 5000) + "\n", ""},
		{"flow list bomb", "x: 1\n---\n# comment\nlist: [" + strings.Repeat("a,", catalog.MaxDocumentValues) + "]\n", "x.yaml:2: document too large: more than 250000 YAML values"},
		{"block list bomb", "list:\n" + strings.Repeat("- a\n", catalog.MaxDocumentValues), "x.yaml:1: document too large: more than 250000 YAML values"},
		{"document bomb", strings.Repeat("---\n", catalog.MaxDocuments+1), "x.yaml:100001: more than 100000 YAML documents in one file"},
		{"tabs", "apiVersion: backstage.io/v1alpha1\nkind: Group\n\tmetadata: {}\n", "x.yaml:3: YAML syntax: found a tab character that violates indentation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := catalog.Parse(strings.NewReader(tt.in), "x.yaml")
			if len(errs) == 0 {
				t.Fatalf("Parse(%s) = no errors, want %q", tt.name, tt.want)
			}
			if tt.want != "" && errs[0].String() != tt.want {
				t.Errorf("Parse(%s) = %q, want %q", tt.name, errs[0].String(), tt.want)
			}
		})
	}
}

func TestParseErrorCap(t *testing.T) {
	in := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: g\n  tags:\n" + strings.Repeat("  - Bad\n", 150) + "spec: {type: team, children: []}\n"
	_, errs := catalog.Parse(strings.NewReader(in), "x.yaml")
	if len(errs) != catalog.MaxErrors+1 {
		t.Fatalf("Parse(150 bad tags) = %d errors, want %d", len(errs), catalog.MaxErrors+1)
	}
	if got := errs[0].String(); !strings.HasPrefix(got, `x.yaml:6: metadata.tags.0: "Bad" is not a valid tag`) {
		t.Errorf("first error = %q", got)
	}
	if got, want := errs[catalog.MaxErrors].String(), "x.yaml: and 50 more problems"; got != want {
		t.Errorf("last error = %q, want %q", got, want)
	}
}

// TestParseLargeDefinition checks that a large API definition written as a
// block scalar, full of the characters that separate YAML values, is one
// value and passes the structure limits.
func TestParseLargeDefinition(t *testing.T) {
	var def strings.Builder
	for def.Len() < 3<<19 {
		def.WriteString("    /pets/{id}: {get: {summary: a-b-c, tags: [x, y, z]}}\n")
		def.WriteString("\n      - indented: more, than: the, key\n")
	}
	doc := "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: pets\nspec:\n  type: openapi\n  lifecycle: production\n  owner: pets-team\n  definition: |\n" + def.String() + "---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: pets2\nspec:\n  type: openapi\n  lifecycle: production\n  owner: pets-team\n  definition: >-\n" + def.String()
	es, errs := catalog.Parse(strings.NewReader(doc), "big-api.yaml")
	if len(errs) > 0 {
		t.Fatalf("Parse(big-api.yaml) errors: %v", errs)
	}
	if len(es) != 2 || len(es[0].SpecString("definition")) < 1<<20 {
		t.Errorf("Parse(big-api.yaml) = %d entities, want 2 with the whole definition", len(es))
	}
}

// TestParseLargeFile checks that a legitimate file just under the size cap,
// holding tens of thousands of documents, is read whole. Under -race or
// -short it uses a tenth of the size (BenchmarkParseLargeFile measures the
// full size).
func TestParseLargeFile(t *testing.T) {
	size := catalog.MaxFileSize - 2000
	if raceEnabled || testing.Short() {
		size /= 10
	}
	var b strings.Builder
	n := 0
	for b.Len() < size {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%d\n  description: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-%d\n", n, strings.Repeat("x", 300), n%50)
		n++
	}
	es, errs := catalog.Parse(strings.NewReader(b.String()), "big.yaml")
	if len(errs) > 0 {
		t.Fatalf("Parse(big.yaml) errors: %v", errs[:1])
	}
	if len(es) != n {
		t.Errorf("Parse(big.yaml) = %d entities, want %d", len(es), n)
	}
}

// Backstage processes each document on its own: a file's invalid document
// names the entity that failed (so its last good version can stay), and
// only problems with the file as a whole are fatal.
func TestParseFatalAndFailed(t *testing.T) {
	good := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: good}\nspec: {type: service, lifecycle: production, owner: g}\n"
	noOwner := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: no-owner, namespace: shop}\nspec: {type: service, lifecycle: production}\n"
	noName := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {title: x}\nspec: {type: service, lifecycle: production, owner: g}\n"
	tests := []struct {
		name       string
		in         string
		fatal      bool
		entities   int
		wantFailed []string
	}{
		{"one invalid document among valid ones", good + "---\n" + noOwner, false, 1, []string{"component:shop/no-owner"}},
		{"a document without a name fails unnamed", noName + "---\n" + good, false, 1, nil},
		{"syntax error", good + "---\nkind: [\n", true, 1, nil},
		{"binary", "\x00\x01", true, 0, nil},
		{"clean", good, false, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := catalog.ParseFile(strings.NewReader(tt.in), "f.yaml")
			if res.Fatal != tt.fatal || len(res.Entities) != tt.entities {
				t.Errorf("ParseFile = fatal %v, %d entities (errors %v); want fatal %v, %d entities", res.Fatal, len(res.Entities), res.Errors, tt.fatal, tt.entities)
			}
			var failed []string
			for _, r := range res.Failed {
				failed = append(failed, r.String())
			}
			if strings.Join(failed, ",") != strings.Join(tt.wantFailed, ",") {
				t.Errorf("ParseFile Failed = %v, want %v", failed, tt.wantFailed)
			}
		})
	}
}

// Backstage reads descriptors with YAML merging off (found by the oracle
// test): fields that only a merge key supplies are missing.
func TestParseMergeKeyIsPlain(t *testing.T) {
	in := "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: s}\nspec:\n  <<: {owner: team-a}\n  domain: core\n"
	res := catalog.ParseFile(strings.NewReader(in), "s.yaml")
	if len(res.Entities) != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "spec.owner: required") {
		t.Errorf("ParseFile(merge key supplying owner) = %d entities, errors %v; want spec.owner: required", len(res.Entities), res.Errors)
	}
}

// TestParseBytesIsParseFile: ParseBytes, which a sync calls on the blob it
// read, answers as ParseFile does on a reader of the same bytes, for every
// fixture, a file over the size limit and a broken stream.
func TestParseBytesIsParseFile(t *testing.T) {
	inputs := map[string][]byte{"too-large.yaml": bytes.Repeat([]byte("#"), catalog.MaxFileSize+1)}
	for _, dir := range []string{"testdata/valid", "testdata/broken"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("fixtures in %s: %v, %v", dir, files, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inputs[filepath.ToSlash(f)] = b
		}
	}
	summary := func(r catalog.ParseResult) string {
		var b strings.Builder
		fmt.Fprintf(&b, "fatal=%v skipped=%v failed=%v\nerrors=%q\n", r.Fatal, r.Skipped, r.Failed, errorStrings(r.Errors))
		for _, e := range r.Entities {
			fmt.Fprintf(&b, "%s@%d %s\n", e.Ref(), e.Origin.Line, r.Documents[e])
		}
		return b.String()
	}
	for path, data := range inputs {
		if got, want := summary(catalog.ParseBytes(data, path)), summary(catalog.ParseFile(bytes.NewReader(data), path)); got != want {
			t.Errorf("%s: ParseBytes differs from ParseFile:\n%s", path, cmp.Diff(want, got))
		}
	}
	_, errs := catalog.Parse(iotest.ErrReader(errors.New("disk gone")), "gone.yaml")
	if len(errs) != 1 || errs[0].Message != "read: disk gone" {
		t.Errorf("Parse of a failing reader = %v, want one read error", errs)
	}
}

// TestDuplicateKeyLine checks that a repeated mapping key is reported at
// the repeat with the line of the first, the key written plainly or
// through an alias.
func TestDuplicateKeyLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: &n name\n  title: t\n  *n : x\n", `6: mapping key "name" already defined at line 4`},
		{"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec: {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, b: 10}\n", `4: mapping key "b" already defined at line 4`},
		{"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec:\n  x: 1\n  y: 2\n  x: 3\n", `8: mapping key "x" already defined at line 6`},
	}
	for _, tt := range tests {
		_, errs := catalog.Parse(strings.NewReader(tt.in), "f.yaml")
		var got []string
		for _, e := range errs {
			got = append(got, fmt.Sprintf("%d: %s", e.Line, e.Message))
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("Parse(%q) errors = %q, want [%q]", tt.in, got, tt.want)
		}
	}
}
