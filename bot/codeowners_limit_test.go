package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/synth"
)

// TestCodeOwnersOverLimitShown syncs a repository whose CODEOWNERS is over
// GitHub's limit with `sync --json`, then asks /readyz: both name the
// source, the file and its size (the file used to vanish in silence).
func TestCodeOwnersOverLimitShown(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if _, err := synth.Init(repo); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("/libs/some-library/ @acme/team-a\n", catalog.MaxCodeOwnersSize/33+1)
	size := fmt.Sprint(len(big))
	if _, err := synth.Commit(repo, "big CODEOWNERS", map[string]synth.Change{
		"catalog-info.yaml": synth.Write("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"),
		"CODEOWNERS":        synth.Write(big),
	}); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	var out, errb bytes.Buffer
	cache := t.TempDir()
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return cache
		}
		return ""
	}}
	if code := Main(context.Background(), []string{"sync", "--db", db, "--repo", repo, "--json"}, env); code != ExitOK {
		t.Fatalf("sync --json exit %d, stderr %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var got struct {
		Warnings []catalog.ProcessingError `json:"warnings"`
		Errors   []catalog.ProcessingError `json:"errors"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	if len(got.Warnings) != 1 || got.Warnings[0].Path != "CODEOWNERS" || got.Warnings[0].Source == "" || !strings.Contains(got.Warnings[0].Message, size) {
		t.Errorf("sync --json warnings = %+v, want one for file CODEOWNERS with source and size %s", got.Warnings, size)
	}

	// The text summary says it too; this second sync is unchanged, and
	// /readyz below still shows the warning, from the source's state.
	out.Reset()
	if code := Main(context.Background(), []string{"sync", "--db", db, "--repo", repo}, env); code != ExitOK || !strings.Contains(out.String(), "unchanged") {
		t.Fatalf("second sync exit %d, stdout %s, stderr %s", code, out.String(), errb.String())
	}

	st, err := openStore(context.Background(), env, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := httptest.NewRecorder()
	readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil), st, nil, true)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "CODEOWNERS") || !strings.Contains(body, size) {
		t.Errorf("/readyz = %d %s, want ready, naming CODEOWNERS and its size %s", rec.Code, body, size)
	}
	// Without details /readyz names no source, but still says a source has
	// a warning, so the over-limit file is never silent (fails before:
	// the default body counted the source as plainly "ok").
	rec = httptest.NewRecorder()
	readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil), st, nil, false)
	if body := rec.Body.String(); !strings.Contains(body, `"warnings":1`) || strings.Contains(body, "CODEOWNERS") {
		t.Errorf("/readyz without details = %s, want \"warnings\":1 and no source detail", body)
	}
}
