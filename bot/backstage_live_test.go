//go:build oracle

// The live test mirrors a real Backstage catalog backend (installed with
// npm like the oracle's, started with the default auth policy and one
// static external-access token) serving a generated catalog of about
// 2,000 entities, and diffs portalbot's copy with Backstage's API. Run it
// with the oracle:
//
//	go test -tags oracle -run BackstageLive -timeout 30m ./bot
package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest/portal"
	"github.com/portalbot/portalbot/catalog/synth"
)

const liveToken = "portalbot-live-test-token-0123456789"

// liveEntity is the part of an entity the live test compares.
type liveEntity struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Etag        string            `json:"etag"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec      map[string]any `json:"spec"`
	Relations []struct {
		Type      string `json:"type"`
		TargetRef string `json:"targetRef"`
	} `json:"relations"`
}

func (e liveEntity) ref() string {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(e.Kind + ":" + ns + "/" + e.Metadata.Name)
}

// liveView is ref -> "uid etag" and ref|type|target for every relation.
type liveView struct {
	ents map[string]string
	rels map[string]bool
}

func viewOf(ents []liveEntity) liveView {
	v := liveView{ents: map[string]string{}, rels: map[string]bool{}}
	for _, e := range ents {
		v.ents[e.ref()] = e.Metadata.UID + " " + e.Metadata.Etag
		for _, r := range e.Relations {
			v.rels[e.ref()+"|"+r.Type+"|"+strings.ToLower(r.TargetRef)] = true
		}
	}
	return v
}

func diffLive(t *testing.T, what string, ours, theirs liveView) {
	t.Helper()
	var diffs []string
	for k, v := range theirs.ents {
		if o, ok := ours.ents[k]; !ok {
			diffs = append(diffs, "entity "+k+": in backstage, not in portalbot")
		} else if o != v {
			diffs = append(diffs, "entity "+k+": uid etag "+o+", backstage "+v)
		}
	}
	for k := range ours.ents {
		if _, ok := theirs.ents[k]; !ok {
			diffs = append(diffs, "entity "+k+": in portalbot, not in backstage")
		}
	}
	for k := range theirs.rels {
		if !ours.rels[k] {
			diffs = append(diffs, "relation "+k+": in backstage, not in portalbot")
		}
	}
	for k := range ours.rels {
		if !theirs.rels[k] {
			diffs = append(diffs, "relation "+k+": in portalbot, not in backstage")
		}
	}
	sort.Strings(diffs)
	for i, d := range diffs {
		if i == 30 {
			t.Errorf("%s: ... and %d more", what, len(diffs)-30)
			break
		}
		t.Errorf("%s: %s", what, d)
	}
	t.Logf("%s: portalbot %d entities %d relations, backstage %d entities %d relations, %d differences",
		what, len(ours.ents), len(ours.rels), len(theirs.ents), len(theirs.rels), len(diffs))
}

// apiEntities pages through Backstage's by-query with the token.
func apiEntities(base, token string) ([]liveEntity, error) {
	var all []liveEntity
	cursor := ""
	for {
		u := base + "/api/catalog/entities/by-query?limit=1000"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var p struct {
			Items    []liveEntity `json:"items"`
			PageInfo struct {
				NextCursor string `json:"nextCursor"`
			} `json:"pageInfo"`
		}
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("status %d", resp.StatusCode)
		}
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.PageInfo.NextCursor == "" {
			return all, nil
		}
		cursor = p.PageInfo.NextCursor
	}
}

// ourEntities exports portalbot's catalog.
func ourEntities(t *testing.T, db string) []liveEntity {
	t.Helper()
	code, out, errs := runBot(t, "", "export", "--db", db)
	if code != 0 {
		t.Fatalf("portalbot export = %d: %s", code, errs)
	}
	var ents []liveEntity
	if err := json.Unmarshal([]byte(out), &ents); err != nil {
		t.Fatalf("decode export: %v", err)
	}
	return ents
}

// requireNode fails in CI and skips, loudly, elsewhere when node is missing.
func requireNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		msg := "node is not installed: the live Backstage test cannot start Backstage's catalog backend"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED: " + msg)
	}
}

func TestBackstageLive(t *testing.T) {
	requireNode(t)
	dir := t.TempDir()
	repos, err := synth.Generate(dir, synth.Options{Entities: 2000, Repos: 1, Seed: 11})
	if err != nil {
		t.Fatalf("synth.Generate: %v", err)
	}
	work := filepath.Join(dir, "work")
	if _, err := git.PlainClone(work, false, &git.CloneOptions{URL: repos[0]}); err != nil {
		t.Fatalf("clone: %v", err)
	}
	expandGlobTargets(t, work)
	files := httptest.NewServer(http.FileServer(http.Dir(work)))
	t.Cleanup(files.Close)

	base := startBackstage(t, files.URL)
	want := 0
	// Wait for Backstage to process the catalog: the entity count and the
	// relation count unchanged for 12 s and past 2,000.
	theirs := waitBackstage(t, base, func(ents []liveEntity) bool { want = len(ents); return len(ents) >= 2000 })
	t.Logf("backstage serves %d entities", want)

	measureLive(t, base)

	db := "sqlite:" + filepath.Join(t.TempDir(), "live.db")
	syncLive := func(tok string) (int, string) {
		t.Helper()
		code, out, errs := runBot(t, tok, "sync", "--db", db, "--backstage", base, "--json")
		return code, out + errs
	}
	start := time.Now()
	if code, out := syncLive(liveToken); code != 0 {
		t.Fatalf("sync --backstage = %d: %s", code, out)
	}
	t.Logf("first sync: %s", time.Since(start))
	// Backstage may have stitched since; compare with what it serves now.
	theirs, err = apiEntities(base, liveToken)
	if err != nil {
		t.Fatal(err)
	}
	diffLive(t, "first sync", viewOf(ourEntities(t, db)), viewOf(theirs))
	checkOwners(t, db, theirs)

	// An owner change and an unregistered entity.
	byRef := map[string]liveEntity{}
	var groups []string
	for _, e := range theirs {
		byRef[e.ref()] = e
		if e.Kind == "Group" {
			groups = append(groups, e.Metadata.Name)
		}
	}
	sort.Strings(groups)
	moved, gone := byRef["component:default/service-1"], byRef["component:default/service-2"]
	if moved.Kind == "" || gone.Kind == "" {
		t.Fatalf("the generated catalog lacks service-1 or service-2")
	}
	newOwner := groups[0]
	if newOwner == moved.Spec["owner"] {
		newOwner = groups[1]
	}
	rewriteOwner(t, filepath.Join(work, filepath.FromSlash(synth.ServicePath(1))), newOwner)
	if err := os.WriteFile(filepath.Join(work, filepath.FromSlash(synth.ServicePath(2))), []byte("# unregistered\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs = waitBackstage(t, base, func(ents []liveEntity) bool {
		ok1, ok2 := false, false
		for _, e := range ents {
			switch e.ref() {
			case "component:default/service-1":
				ok1 = e.Spec["owner"] == newOwner
			case "component:default/service-2":
				ok2 = e.Metadata.Annotations["backstage.io/orphan"] == "true"
			}
		}
		return ok1 && ok2
	})
	if code, out := syncLive(liveToken); code != 0 {
		t.Fatalf("sync after the changes = %d: %s", code, out)
	}
	theirs, _ = apiEntities(base, liveToken)
	diffLive(t, "after owner change", viewOf(ourEntities(t, db)), viewOf(theirs))
	if out := askJSON(t, db, "owner service-1"); !strings.Contains(out, "group:"+newOwner) && !strings.Contains(out, newOwner) {
		t.Errorf("owner service-1 = %s, want %s", out, newOwner)
	}
	if out := askJSON(t, db, "owner service-2"); !strings.Contains(out, "orphaned in Backstage") {
		t.Errorf("owner service-2 = %s, want the orphan warning", out)
	}

	// Unregister the orphan, as Backstage's UI does: delete it by uid.
	del := func(uid string) {
		req, _ := http.NewRequest("DELETE", base+"/api/catalog/entities/by-uid/"+uid, nil)
		req.Header.Set("Authorization", "Bearer "+liveToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("DELETE by-uid %s = %d", uid, resp.StatusCode)
		}
	}
	for _, e := range theirs {
		if e.Metadata.Annotations["backstage.io/orphan"] == "true" {
			del(e.Metadata.UID)
		}
	}
	theirs = waitBackstage(t, base, func(ents []liveEntity) bool {
		for _, e := range ents {
			if e.ref() == "component:default/service-2" {
				return false
			}
		}
		return true
	})
	if code, out := syncLive(liveToken); code != 0 {
		t.Fatalf("sync after unregistering = %d: %s", code, out)
	}
	theirs, _ = apiEntities(base, liveToken)
	ours := viewOf(ourEntities(t, db))
	diffLive(t, "after unregistering", ours, viewOf(theirs))
	if _, ok := ours.ents["component:default/service-2"]; ok {
		t.Errorf("service-2 still in portalbot after Backstage unregistered it")
	}

	// A wrong token: a clear error, nothing lost.
	code, out := syncLive("not-the-token")
	if code == 0 || !strings.Contains(out, base+"/api/catalog/entities/by-query") || !strings.Contains(out, "401 Unauthorized") {
		t.Errorf("sync with a wrong token = %d %q, want a failure naming the URL and 401", code, out)
	}
	if strings.Contains(out, "not-the-token") || strings.Contains(out, liveToken) {
		t.Errorf("sync output %q shows a token", out)
	}
	diffLive(t, "after a wrong token", viewOf(ourEntities(t, db)), viewOf(theirs))
}

// checkOwners asks the owner of a sample of Components and requires the
// owner Backstage's ownedBy relation names.
func checkOwners(t *testing.T, db string, theirs []liveEntity) {
	t.Helper()
	n := 0
	for _, e := range theirs {
		if e.Kind != "Component" || n >= 5 {
			continue
		}
		var owner string
		for _, r := range e.Relations {
			if r.Type == "ownedBy" {
				owner = r.TargetRef
			}
		}
		out := askJSON(t, db, "owner "+e.ref())
		_, name, _ := strings.Cut(owner, "/")
		if owner == "" || !strings.Contains(out, name) {
			t.Errorf("owner %s = %s, want %s (Backstage's ownedBy)", e.ref(), out, owner)
		}
		n++
	}
}

func askJSON(t *testing.T, db, q string) string {
	t.Helper()
	code, out, errs := runBot(t, "", "ask", "--db", db, "--json", q)
	if code != 0 {
		t.Fatalf("ask %q = %d: %s", q, code, errs)
	}
	return out
}

func rewriteOwner(t *testing.T, path, owner string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  owner: ") {
			lines[i] = "  owner: " + owner
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startBackstage starts the catalog backend with the default auth policy
// and one static external-access token, reading the catalog at files.
func startBackstage(t *testing.T, files string) string {
	t.Helper()
	dir := oracleInstall(t)
	port := freePort(t)
	prefix := "live_" + randHex(4) + "_"
	t.Cleanup(func() { dropDatabases(t, prefix) })
	host := strings.TrimPrefix(files, "http://")
	cfg := fmt.Sprintf(`backend:
  baseUrl: http://127.0.0.1:%[1]d
  listen: { port: %[1]d, host: 127.0.0.1 }
  database:
    client: pg
    prefix: %[2]s
    connection: { host: 127.0.0.1, port: 5432, user: postgres, password: unused }
  reading:
    allow:
      - host: %[3]s
  auth:
    externalAccess:
      - type: static
        options:
          token: %[5]s
          subject: portalbot-live-test
catalog:
  orphanStrategy: keep
  rules:
    - allow: [Component, API, Resource, System, Domain, Group, User, Location, Template]
  processingInterval: { seconds: 2 }
  locations:
    - type: url
      target: %[4]s/catalog-info.yaml
`, port, prefix, host, files, liveToken)
	cfgPath := filepath.Join(t.TempDir(), "app-config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", "index.js", "--config", cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start backstage: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed on purpose
		if t.Failed() {
			t.Logf("backstage log tail:\n%s", tail(logs.String(), 3000))
		}
	})
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

// waitBackstage polls the API until done holds and the entity and
// relation counts have not moved for 12 s (stitching lags processing).
func waitBackstage(t *testing.T, base string, done func([]liveEntity) bool) []liveEntity {
	t.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	last, since := [2]int{-1, -1}, time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(3 * time.Second)
		ents, err := apiEntities(base, liveToken)
		if err != nil {
			continue
		}
		v := viewOf(ents)
		cur := [2]int{len(v.ents), len(v.rels)}
		if cur != last {
			last, since = cur, time.Now()
			continue
		}
		if done(ents) && time.Since(since) > 12*time.Second {
			return ents
		}
	}
	t.Fatalf("backstage did not settle in time; last count %v", last)
	return nil
}

// measureLive logs, against the real backend, the time of paging the API
// with a plain HTTP client (items decoded as raw JSON, pages of 500 as
// portalbot asks) beside a first sync --backstage into a fresh SQLite file
// and a no-op re-sync, three runs each.
func measureLive(t *testing.T, base string) {
	t.Helper()
	plain := func() (int, error) {
		n, cursor := 0, ""
		for {
			u := base + "/api/catalog/entities/by-query?limit=500"
			if cursor != "" {
				u += "&cursor=" + cursor
			}
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+liveToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return n, err
			}
			var p struct {
				Items    []json.RawMessage `json:"items"`
				PageInfo struct {
					NextCursor string `json:"nextCursor"`
				} `json:"pageInfo"`
			}
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil {
				return n, err
			}
			n += len(p.Items)
			if p.PageInfo.NextCursor == "" {
				return n, nil
			}
			cursor = p.PageInfo.NextCursor
		}
	}
	for run := 1; run <= 3; run++ {
		start := time.Now()
		n, err := plain()
		if err != nil {
			t.Fatalf("plain pull: %v", err)
		}
		plainTook := time.Since(start)
		start = time.Now()
		pulled, err := portal.New(discardStore{}, portal.Options{Getenv: func(string) string { return liveToken }}).
			Sync(context.Background(), portal.Source{Name: "measure", URL: base})
		if err != nil || pulled.Added != n {
			t.Fatalf("pull = %d entities, %v; want %d", pulled.Added, err, n)
		}
		pullTook := time.Since(start)
		db := "sqlite:" + filepath.Join(t.TempDir(), fmt.Sprintf("measure-%d.db", run))
		start = time.Now()
		if code, _, errs := runBot(t, liveToken, "sync", "--db", db, "--backstage", base); code != 0 {
			t.Fatalf("sync --backstage = %d: %s", code, errs)
		}
		syncTook := time.Since(start)
		start = time.Now()
		if code, _, errs := runBot(t, liveToken, "sync", "--db", db, "--backstage", base); code != 0 {
			t.Fatalf("no-op sync --backstage = %d: %s", code, errs)
		}
		t.Logf("run %d: %d entities: plain paging %s, portalbot's pull %s (%.2fx), sync --backstage into a new SQLite file %s (%.2fx), no-op re-sync %s",
			run, n, plainTook.Round(time.Millisecond), pullTook.Round(time.Millisecond), float64(pullTook)/float64(plainTook),
			syncTook.Round(time.Millisecond), float64(syncTook)/float64(plainTook), time.Since(start).Round(time.Millisecond))
	}
}

// discardStore takes a sync and stores nothing, so that measureLive times
// portalbot's pull alone. Sync calls only the methods it overrides.
type discardStore struct{ catalog.Store }

func (discardStore) ApplySync(ctx context.Context, b catalog.SyncBatch) (catalog.SyncResult, error) {
	return catalog.SyncResult{Added: len(b.Files)}, nil
}
func (discardStore) Counts(ctx context.Context) (map[string]int, error) { return nil, nil }
func (discardStore) ProcessingErrors(ctx context.Context, source string) ([]catalog.ProcessingError, error) {
	return nil, nil
}
func (discardStore) RecordSourceError(ctx context.Context, src catalog.Source, msg string) error {
	return nil
}
