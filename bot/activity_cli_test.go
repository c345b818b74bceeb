package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/bot"
)

var activityCatalog = map[string]string{
	"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: [], members: [alice]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: search}
spec: {type: team, children: [], members: [carol], profile: {displayName: Search Team}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [payments], profile: {email: alice@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: carol}
spec: {memberOf: [search], profile: {email: carol@example.com, displayName: Carol}}
`,
	"services/ledger/catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger, title: Ledger}
spec: {type: service, lifecycle: production, owner: payments}
`,
}

// TestReportActivityRule syncs a repository in which carol (search) made
// six recent commits to the ledger service that payments owns, then asks
// report for that rule alone: one finding, with the evidence in JSON.
func TestReportActivityRule(t *testing.T) {
	files := map[string]string{}
	for k, v := range activityCatalog {
		files[k] = v
	}
	// The root descriptor points at the service's.
	files["catalog-info.yaml"] += "---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\nspec: {targets: [./services/ledger/catalog-info.yaml]}\n"
	repo := writeFiles(t, files)
	commitAll(t, repo)
	r, err := git.PlainOpen(repo)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		p := filepath.Join(repo, "services", "ledger", "main.go")
		if err := os.WriteFile(p, fmt.Appendf(nil, "package main // %d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Add("services/ledger/main.go"); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "Carol", Email: "Carol@Example.com", When: time.Now().Add(-time.Duration(6-i) * time.Hour)}
		if _, err := w.Commit(fmt.Sprint("change ", i), &git.CommitOptions{Author: sig, Committer: sig}); err != nil {
			t.Fatal(err)
		}
	}
	cache := t.TempDir()
	db := "sqlite:" + filepath.Join(t.TempDir(), "activity.db")
	if code, _, errs := runSync(t, cache, "--db", db, "--repo", repo); code != 0 {
		t.Fatalf("sync exit %d: %s", code, errs)
	}
	var out, errb bytes.Buffer
	env := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return cache
		}
		return ""
	}}
	code := bot.Main(context.Background(), []string{"report", "--db", db, "--dry-run", "--format", "json", "--rules", "activity-owner-mismatch"}, env)
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, errb.String())
	}
	var got []struct {
		Entity   string `json:"entity"`
		Drift    string `json:"drift"`
		Owner    string `json:"owner"`
		Activity struct {
			Team        string  `json:"team"`
			Share       float64 `json:"share"`
			TeamCommits int     `json:"team_commits"`
			OwnerShare  float64 `json:"owner_share"`
			TopAuthors  []struct {
				User string `json:"user"`
			} `json:"top_authors"`
		} `json:"activity"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("report output %q: %v", out.String(), err)
	}
	if len(got) != 1 {
		t.Fatalf("report --rules activity-owner-mismatch = %d findings, want 1:\n%s", len(got), out.String())
	}
	f := got[0]
	if f.Entity != "component:default/ledger" || f.Owner != "group:default/payments" || f.Activity.Team != "group:default/search" ||
		f.Activity.Share != 1 || f.Activity.TeamCommits != 6 || f.Activity.OwnerShare != 0 || len(f.Activity.TopAuthors) != 1 || f.Activity.TopAuthors[0].User != "user:default/carol" {
		t.Errorf("finding = %+v, want search's 6 commits (100%%) on payments' ledger, by carol", f)
	}
}
