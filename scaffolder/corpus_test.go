package scaffolder_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/commands"
)

// TestCorpusTemplateLaunch runs Backstage's create-react-app template from
// the corpus through both form steps onto the fake scaffolder.
func TestCorpusTemplateLaunch(t *testing.T) {
	const corpus = "../../shared/corpus/backstage"
	tplDir := filepath.Join(corpus, "extra/backstage-software-templates/scaffolder-templates/create-react-app")
	if _, err := os.Stat(tplDir); err != nil {
		t.Skipf("corpus not present: %v", err)
	}
	ctx := context.Background()
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "examples", filepath.Join(corpus, "packages/catalog-model/examples"))
	catalogtest.LoadDir(t, st, "cra", tplDir)
	fake := newFakeBackstage(t)
	svc := newBackstageService(t, st, fake, nil)

	open, err := svc.Open(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1"}, "create-react-app-template")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"component_id", "owner", "description"}; !reflect.DeepEqual(inputNames(open.Form), want) {
		t.Errorf("step 1 inputs = %v, want %v", inputNames(open.Form), want)
	}
	bad, err := svc.Submit(ctx, submitReq("u", "", open.Form.State, "", map[string][]string{"component_id": {"-bad-"}, "owner": {"user:default/guest"}}, nil))
	if err != nil || bad.FieldErrors["component_id"] == "" || !strings.Contains(bad.FieldErrors["owner"], "Must be a Group") {
		t.Fatalf("Submit(bad step 1) = %+v, %v; want errors on component_id and owner", bad.FieldErrors, err)
	}
	s2, err := svc.Submit(ctx, submitReq("u", "", open.Form.State, "", map[string][]string{"component_id": {"web-app"}, "owner": {"group:default/team-a"}}, nil))
	if err != nil || s2.Form == nil {
		t.Fatalf("Submit(step 1) = %+v, %v", s2, err)
	}
	rev, err := svc.Submit(ctx, submitReq("u", "", s2.Form.State, "view-1", map[string][]string{"repoUrl.host": {"github.com"}, "repoUrl.owner": {"acme"}, "repoUrl.repo": {"web-app"}}, nil))
	if err != nil {
		t.Fatalf("Submit(step 2): %v", err)
	}
	done, err := svc.Submit(ctx, launchReq(t, rev, "u", "", "view-1", nil))
	if err != nil || !strings.Contains(done.Text, "task-1") {
		t.Fatalf("Submit(step 2) = %+v, %v", done, err)
	}
	again, _ := svc.Submit(ctx, launchReq(t, rev, "u", "", "view-1", nil))
	tasks := fake.tasks()
	if len(tasks) != 1 || !strings.Contains(again.Text, "already") {
		t.Fatalf("tasks = %d after a repeated submission (%q), want 1", len(tasks), again.Text)
	}
	want := map[string]any{"component_id": "web-app", "owner": "group:default/team-a", "repoUrl": "github.com?owner=acme&repo=web-app"}
	if tasks[0].TemplateRef != "template:default/create-react-app-template" || !reflect.DeepEqual(tasks[0].Values, want) {
		t.Errorf("task = %s %v, want template:default/create-react-app-template %v", tasks[0].TemplateRef, tasks[0].Values, want)
	}
}
