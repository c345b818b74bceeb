package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog/synth"
)

// TestReadyzDetails syncs one repository, then asks /readyz with and
// without details: by default the body counts sources by status and names
// none of them, nor their commits; with details it lists both.
func TestReadyzDetails(t *testing.T) {
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "r.db")
	cache := t.TempDir()
	env := &Env{Stdin: strings.NewReader(""), Stdout: &strings.Builder{}, Stderr: &strings.Builder{}, Getenv: func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return cache
		}
		return ""
	}}
	if code := Main(context.Background(), []string{"sync", "--db", db, "--repo", repos[0]}, env); code != ExitOK {
		t.Fatalf("sync exit %d: %s", code, env.Stderr)
	}
	st, err := openStore(context.Background(), env, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srcs, err := st.Sources(context.Background())
	if err != nil || len(srcs) != 1 || srcs[0].Commit == "" {
		t.Fatalf("Sources = %+v, %v; want one synced source with a commit", srcs, err)
	}
	name, commit := srcs[0].Name, srcs[0].Commit

	for _, details := range []bool{false, true} {
		rec := httptest.NewRecorder()
		readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil), st, NewConnections(), details)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Errorf("readyz(details=%v) = %d %s, want 200", details, rec.Code, body)
		}
		named := strings.Contains(body, name) || strings.Contains(body, commit)
		if named != details {
			t.Errorf("readyz(details=%v) body %s names source %q or commit %q: %v, want %v", details, body, name, commit, named, details)
		}
		if !details {
			var got struct {
				Ready    bool           `json:"ready"`
				Database string         `json:"database"`
				Sources  map[string]int `json:"sources"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || !got.Ready || got.Database != "ok" || got.Sources[srcs[0].Status] != 1 {
				t.Errorf("readyz default body %s (%v), want ready, database ok, sources {%q: 1}", body, err, srcs[0].Status)
			}
		}
	}
}
