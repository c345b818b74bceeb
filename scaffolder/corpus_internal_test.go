package scaffolder

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/commands"
)

// corpusDir holds real Backstage files, read-only, outside the module.
const corpusDir = "../../shared/corpus/backstage"

// TestCorpusTemplatesProduceForms loads every template.yaml of the corpus
// (skeleton files excluded) and builds the form of each of its steps.
func TestCorpusTemplatesProduceForms(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared Backstage corpus must be present in CI: %v", err)
		}
		t.Skipf("corpus %s not present: %v", corpusDir, err)
	}
	ctx := context.Background()
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "examples", filepath.Join(corpusDir, "packages/catalog-model/examples"))
	var files []catalog.FileResult
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "template.yaml" || strings.Contains(p, "skeleton") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		ents, errs := catalog.Parse(f, p)
		if len(errs) > 0 {
			t.Errorf("parse %s: %v", p, errs)
		}
		files = append(files, catalog.FileResult{Path: p, Entities: ents})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "corpus-templates", Repo: corpusDir}, Full: true, Files: files}); err != nil {
		t.Fatal(err)
	}
	templates, err := st.Entities(ctx, catalog.Query{Kind: catalog.KindTemplate})
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) < 14 {
		t.Errorf("stored %d corpus templates, want at least 14", len(templates))
	}
	// A Backstage launcher, never contacted by Open: the corpus's templates
	// use actions the built-in runner lacks, and Open would refuse them.
	svc := New(Params{Store: st, Launcher: NewBackstage("http://127.0.0.1:1", "unused", nil, slog.New(slog.DiscardHandler))})
	defer svc.Close()
	kinds := map[commands.InputKind]int{}
	for _, e := range templates {
		tpl, err := fromEntity(e)
		if err != nil {
			t.Errorf("fromEntity(%s): %v", e.Ref(), err)
			continue
		}
		open, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1"}, tpl.Ref.String())
		if err != nil || open.Form == nil {
			t.Errorf("Open(%s) = %+v, %v", tpl.Ref, open, err)
			continue
		}
		for i := range tpl.Params {
			f, err := svc.form(ctx, tpl, i, formState{Template: tpl.Ref.String(), Values: map[string]any{}})
			if err != nil {
				t.Errorf("form(%s step %d): %v", tpl.Ref, i+1, err)
				continue
			}
			if len(f.Inputs) == 0 {
				t.Errorf("form(%s step %d) has no inputs", tpl.Ref, i+1)
			}
			if len(f.State) > 3000 {
				t.Errorf("form(%s step %d) state is %d bytes", tpl.Ref, i+1, len(f.State))
			}
			seen := map[string]bool{}
			for _, in := range f.Inputs {
				kinds[in.Kind]++
				if seen[in.Name] || in.Name == "" || in.Label == "" {
					t.Errorf("form(%s step %d): bad or duplicate input %+v", tpl.Ref, i+1, in)
				}
				seen[in.Name] = true
				if (in.Kind == commands.InputSelect || in.Kind == commands.InputMultiSelect) && (len(in.Options) == 0 || len(in.Options) > maxStaticOptions) {
					t.Errorf("form(%s step %d): select %s has %d options", tpl.Ref, i+1, in.Name, len(in.Options))
				}
			}
			// Every step's schema compiles for validation.
			if _, err := compileSchema(stripStep(tpl.Params[i].Schema)); err != nil {
				t.Errorf("compile %s step %d: %v", tpl.Ref, i+1, err)
			}
		}
	}
	for _, k := range []commands.InputKind{commands.InputText, commands.InputMultiline, commands.InputNumber, commands.InputInteger, commands.InputCheckbox, commands.InputSelect, commands.InputMultiSelect} {
		if kinds[k] == 0 {
			t.Errorf("no corpus field rendered as %s; kinds: %v", k, kinds)
		}
	}
}

// TestKitchenSinkFields pins how the corpus's every-widget template renders.
func TestKitchenSinkFields(t *testing.T) {
	p := filepath.Join(corpusDir, "plugins/scaffolder-backend/sample-templates/bui-kitchen-sink-demo/template.yaml")
	f, err := os.Open(p)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared Backstage corpus must be present in CI: %v", err)
		}
		t.Skipf("corpus template not present: %v", err)
	}
	defer f.Close()
	ents, errs := catalog.Parse(f, p)
	if len(errs) > 0 || len(ents) != 1 {
		t.Fatalf("parse %s: %v", p, errs)
	}
	tpl, err := fromEntity(ents[0])
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]commands.Input{}
	fieldsByName := map[string]field{}
	for i := range tpl.Params {
		for _, fd := range stepFields(tpl.Params[i].Schema) {
			fieldsByName[fd.Name] = fd
			for _, in := range fd.Inputs(nil, []commands.Option{{Label: "a", Value: "component:default/a"}}, sourceFor(fd.Kinds)) {
				byName[in.Name] = in
			}
		}
	}
	tests := []struct {
		name string
		kind commands.InputKind
		hint string
	}{
		{"name", commands.InputText, "Plain text"},
		{"description", commands.InputMultiline, ""},
		{"replicas", commands.InputInteger, ""},
		{"confidence", commands.InputNumber, ""},
		{"enabled", commands.InputCheckbox, ""},
		{"consent", commands.InputCheckbox, ""},
		{"environment", commands.InputSelect, ""},
		{"features", commands.InputMultiSelect, ""},
		{"tags", commands.InputMultiline, "One per line"},
		{"owner.displayName", commands.InputText, ""},
		{"contacts", commands.InputMultiline, "YAML or JSON list"},
		{"ownerRef", commands.InputSelect, ""},
		{"relatedEntities", commands.InputMultiSelect, ""},
		{"repoOwner", commands.InputText, "RepoOwnerPicker"},
		{"repoBranch", commands.InputText, "RepoBranchPicker"},
		{"repoUrl.host", commands.InputSelect, ""},
		{"deployToken", commands.InputText, ""},
	}
	for _, tt := range tests {
		in, ok := byName[tt.name]
		if !ok {
			t.Errorf("kitchen sink has no input %s", tt.name)
			continue
		}
		if in.Kind != tt.kind || !strings.Contains(in.Hint, tt.hint) {
			t.Errorf("input %s = kind %s hint %q, want %s with %q", tt.name, in.Kind, in.Hint, tt.kind, tt.hint)
		}
	}
	if _, ok := byName["secret"]; ok {
		t.Errorf("hidden field secret was rendered")
	}
	if !fieldsByName["password"].Secret || !fieldsByName["deployToken"].Secret {
		t.Errorf("password and deployToken should be secret fields")
	}
	// More than maxStaticOptions entities make a type-ahead select.
	var many []commands.Option
	for i := 0; i <= maxStaticOptions; i++ {
		many = append(many, commands.Option{Label: "x", Value: "x"})
	}
	owner := fieldsByName["ownerRef"]
	in := owner.Inputs(nil, many, sourceFor(owner.Kinds))
	if len(in) != 1 || in[0].Kind != commands.InputExternalSelect || in[0].Source != "template.entities:group+user" {
		t.Errorf("ownerRef with %d options = %+v, want an external select on template.entities:group+user", len(many), in)
	}
}
