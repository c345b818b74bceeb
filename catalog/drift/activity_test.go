package drift_test

import (
	"cmp"
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/ingest"
)

// activityNow is the time the test's history is measured from.
var activityNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// gitRepo writes commits with go-git as given authors at given times, on
// refs/heads/master of a bare repository: objects are built in memory and
// written as one packfile per batch, as a fetch leaves them, so neither
// writing nor reading hundreds of commits touches thousands of files.
type gitRepo struct {
	t       testing.TB
	dir     string
	r       *git.Repository
	mem     *memory.Storage
	pending []plumbing.Hash
	// dirs holds each directory's children by prefix ("" for the root,
	// "a/b/" below): a file's blob, or the zero hash for a subdirectory.
	dirs  map[string]map[string]plumbing.Hash
	trees map[string]plumbing.Hash // directory prefix -> tree, until a file under it changes
	head  plumbing.Hash
	n     int
	queue []queued
}

type queued struct {
	file, email string
	daysAgo     float64
}

func newGitRepo(t testing.TB) *gitRepo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInit(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	return &gitRepo{t: t, dir: dir, r: r, mem: memory.NewStorage(), dirs: map[string]map[string]plumbing.Hash{"": {}}, trees: map[string]plumbing.Hash{}}
}

func (g *gitRepo) store(o interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	g.t.Helper()
	obj := g.mem.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		g.t.Fatal(err)
	}
	return g.set(obj)
}

func (g *gitRepo) set(obj plumbing.EncodedObject) plumbing.Hash {
	g.t.Helper()
	h, err := g.mem.SetEncodedObject(obj)
	if err != nil {
		g.t.Fatal(err)
	}
	g.pending = append(g.pending, h)
	return h
}

// pack writes the objects made since the last pack into the repository
// as a packfile and points master at the head.
func (g *gitRepo) pack() string {
	g.t.Helper()
	pw, ok := g.r.Storer.(storer.PackfileWriter)
	if !ok {
		g.t.Fatal("storage cannot write packfiles")
	}
	w, err := pw.PackfileWriter()
	if err != nil {
		g.t.Fatal(err)
	}
	if _, err := packfile.NewEncoder(w, g.mem, false).Encode(g.pending, 0); err != nil {
		g.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		g.t.Fatal(err)
	}
	g.pending = nil
	if err := g.r.Storer.SetReference(plumbing.NewHashReference("refs/heads/master", g.head)); err != nil {
		g.t.Fatal(err)
	}
	return g.head.String()
}

// tree writes the tree of every file under prefix ("" for the root).
func (g *gitRepo) tree(prefix string) plumbing.Hash {
	if h, ok := g.trees[prefix]; ok {
		return h
	}
	t := &object.Tree{}
	for name, h := range g.dirs[prefix] {
		if h.IsZero() {
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: g.tree(prefix + name + "/")})
		} else {
			t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		}
	}
	// Git orders entries by name, a directory's name as if it ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	slices.SortFunc(t.Entries, func(a, b object.TreeEntry) int { return strings.Compare(key(a), key(b)) })
	h := g.store(t)
	g.trees[prefix] = h
	return h
}

// commit queues a change of file (a slash path) by email, daysAgo days
// before activityNow; flush writes the queue.
func (g *gitRepo) commit(file, email string, daysAgo float64) {
	g.queue = append(g.queue, queued{file, email, daysAgo})
}

// flush writes the queued commits oldest first, so that commit times grow
// along the history as in a real repository, and returns the head.
func (g *gitRepo) flush() string {
	g.t.Helper()
	slices.SortStableFunc(g.queue, func(a, b queued) int { return cmp.Compare(b.daysAgo, a.daysAgo) })
	for _, q := range g.queue {
		g.write(q.file, q.email, q.daysAgo)
	}
	g.queue = nil
	return g.pack()
}

// write commits a change of file by email, daysAgo days before
// activityNow, on top of the head, and returns the new head.
func (g *gitRepo) write(file, email string, daysAgo float64) string {
	g.t.Helper()
	g.n++
	blob := &plumbing.MemoryObject{}
	blob.SetType(plumbing.BlobObject)
	fmt.Fprintf(blob, "change %d\n", g.n)
	h := g.set(blob)
	// Register the file and its directories, and forget the trees of
	// every directory on its path.
	prefix := ""
	for {
		delete(g.trees, prefix)
		name, _, isDir := strings.Cut(file[len(prefix):], "/")
		if g.dirs[prefix] == nil {
			g.dirs[prefix] = map[string]plumbing.Hash{}
		}
		if !isDir {
			g.dirs[prefix][name] = h
			break
		}
		g.dirs[prefix][name] = plumbing.ZeroHash
		prefix += name + "/"
	}
	when := activityNow.Add(-time.Duration(daysAgo * float64(24*time.Hour)))
	sig := object.Signature{Name: email, Email: email, When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprintf("change %d", g.n), TreeHash: g.tree("")}
	if !g.head.IsZero() {
		c.ParentHashes = []plumbing.Hash{g.head}
	}
	g.head = g.store(c)
	return g.head.String()
}

// activityCase is one generated service and the drift planted in it.
type activityCase struct {
	name, owner string
	// drift is the team that should be reported, "" for none.
	drift string
}

// loadActivityCatalog generates teams, users and services, writes each
// service's history into a Git repository, and syncs the catalog from
// it. Services fall in kinds: plain (the owner does the work), injected
// (another team does >= 60% with >= 5 commits, by recent commits, through
// an alias address or through a child team of the other team), and near
// misses (4 commits only; 50% share; much old work that the half-life
// discounts; work by the owner's child team; authors who are no User).
func loadActivityCatalog(t *testing.T, st catalog.Store, seed uint64) (*gitRepo, []activityCase, map[string]string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	const teams = 6
	var es []*catalog.Entity
	add := func(kind, name string, spec map[string]any, path string) *catalog.Entity {
		e := benchEntity(kind, name, spec, "svc-repo", path, 1)
		es = append(es, e)
		return e
	}
	member := func(team, i int) string { return fmt.Sprintf("u%d-%d@example.com", team, i) }
	for tm := range teams {
		spec := map[string]any{"type": "team", "children": []any{}, "profile": map[string]any{"displayName": fmt.Sprintf("Team %d", tm)}}
		if tm == 0 {
			spec["children"] = []any{"team-0-sub"}
		}
		add("Group", fmt.Sprintf("team-%d", tm), spec, "org/teams.yaml")
		for i := range 3 {
			add("User", fmt.Sprintf("u%d-%d", tm, i), map[string]any{"memberOf": []any{fmt.Sprintf("team-%d", tm)}, "profile": map[string]any{"email": member(tm, i)}}, "org/users.yaml")
		}
	}
	add("Group", "team-0-sub", map[string]any{"type": "team", "parent": "team-0", "children": []any{}}, "org/teams.yaml")
	add("User", "sub-0", map[string]any{"memberOf": []any{"team-0-sub"}, "profile": map[string]any{"email": "sub-0@example.com"}}, "org/users.yaml")
	aliases := map[string]string{"old-laptop@example.org": "user:default/u3-1"}

	g := newGitRepo(t)
	var cases []activityCase
	kinds := []string{"plain", "injected", "alias", "four", "half", "old", "child", "strangers"}
	for i := range 48 {
		kind := kinds[i%len(kinds)]
		owner := rng.IntN(teams)
		if kind == "child" {
			owner = 0
		}
		other := (owner + 1 + rng.IntN(teams-1)) % teams
		if kind == "alias" {
			other = 3
			if owner == 3 {
				owner = 4
			}
		}
		name := fmt.Sprintf("svc-%02d-%s", i, kind)
		dir := "services/" + name
		c := activityCase{name: "component:default/" + name, owner: fmt.Sprintf("group:default/team-%d", owner)}
		file := func(j int) string { return fmt.Sprintf("%s/src/f%d.go", dir, j%3) }
		ownerCommits := func(n int, daysAgo float64) {
			for j := range n {
				g.commit(file(j), member(owner, j%3), daysAgo+float64(j)/10)
			}
		}
		otherCommits := func(n int, daysAgo float64) {
			for j := range n {
				g.commit(file(j), member(other, j%3), daysAgo+float64(j)/10)
			}
		}
		switch kind {
		case "plain":
			ownerCommits(6, 5)
			otherCommits(2, 3)
		case "injected":
			ownerCommits(2, 10)
			otherCommits(5+rng.IntN(4), 2)
			c.drift = fmt.Sprintf("group:default/team-%d", other)
		case "alias":
			for j := range 6 {
				g.commit(file(j), "Old-Laptop@example.org", 4+float64(j))
			}
			ownerCommits(1, 1)
			c.drift = "group:default/team-3"
		case "four":
			otherCommits(4, 2)
		case "half":
			ownerCommits(5, 2)
			otherCommits(5, 2)
		case "old":
			// 6 commits 80 days ago weigh about 3.2; 3 fresh ones of the
			// owner weigh 3: 52%, under 60% though 6 of 9 commits.
			otherCommits(6, 80)
			ownerCommits(3, 0.5)
			// Work older than the window does not count at all.
			otherCommits(10, 120)
		case "child":
			for j := range 7 {
				g.commit(file(j), "sub-0@example.com", 3+float64(j))
			}
		case "strangers":
			for j := range 7 {
				g.commit(file(j), fmt.Sprintf("contractor%d@elsewhere.example", j%2), 3)
			}
		}
		if c.drift != "" && c.drift == c.owner {
			t.Fatalf("generator bug: %s drifts to its owner", name)
		}
		cases = append(cases, c)
		comp := add("Component", name, map[string]any{"type": "service", "lifecycle": "production", "owner": fmt.Sprintf("team-%d", owner)}, dir+"/catalog-info.yaml")
		comp.Metadata.Title = fmt.Sprintf("Service %02d", i)
	}
	// A root component of the monorepo claims only files outside the
	// services' directories.
	add("Component", "monorepo", map[string]any{"type": "library", "lifecycle": "production", "owner": "team-5"}, "catalog-info.yaml")
	cases = append(cases, activityCase{name: "component:default/monorepo", owner: "group:default/team-5"})
	g.commit("README.md", member(5, 0), 0.4)
	head := g.flush()
	syncActivity(t, st, g, es, head)
	return g, cases, aliases
}

func syncActivity(t *testing.T, st catalog.Store, g *gitRepo, es []*catalog.Entity, head string) {
	t.Helper()
	byPath := map[string][]*catalog.Entity{}
	for _, e := range es {
		e.Origin.Commit = head
		byPath[e.Origin.Path] = append(byPath[e.Origin.Path], e)
	}
	var files []catalog.FileResult
	for p, list := range byPath {
		files = append(files, catalog.FileResult{Path: p, Entities: list})
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "svc-repo", Repo: g.dir, Branch: "master", Commit: head},
		Full:   true, Files: files,
	}); err != nil {
		t.Fatalf("ApplySync: %v", err)
	}
}

func activityReport(t *testing.T, c *drift.Cache) []drift.Finding {
	t.Helper()
	fs, err := c.Run(context.Background(), time.Time{}, drift.DefaultRules(), drift.Filter{Rules: []string{drift.RuleActivityOwnerMismatch}})
	if err != nil {
		t.Fatalf("Run(activity-owner-mismatch): %v", err)
	}
	return fs
}

// TestActivityOwnerMismatchPrecisionRecall runs the rule on a generated
// catalog whose Git history the test wrote: every injected finding must
// be found with the right team, and nothing else.
func TestActivityOwnerMismatchPrecisionRecall(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			st := sqlstoretest.OpenSQLite(t)
			g, cases, aliases := loadActivityCatalog(t, st, seed)
			hr := ingest.NewHistoryReader(t.TempDir())
			cache := drift.NewCache(st, nil).WithActivity(drift.ActivityOptions{History: hr, Aliases: aliases, Now: activityNow})
			fs := activityReport(t, cache)
			got := map[string]string{}
			for _, f := range fs {
				got[f.Entity] = f.Activity.Team
			}
			tp, fp, fn := 0, 0, 0
			for _, c := range cases {
				switch team, ok := got[c.name]; {
				case c.drift != "" && ok && team == c.drift:
					tp++
				case c.drift != "" && !ok:
					fn++
					t.Errorf("%s: injected drift to %s not found", c.name, c.drift)
				case c.drift != "" && team != c.drift:
					fp++
					t.Errorf("%s: reported team %s, want %s", c.name, team, c.drift)
				case c.drift == "" && ok:
					fp++
					t.Errorf("%s: reported drift to %s, none injected", c.name, team)
				}
			}
			precision := float64(tp) / float64(max(tp+fp, 1))
			recall := float64(tp) / float64(max(tp+fn, 1))
			if precision != 1 || recall != 1 || tp == 0 {
				t.Errorf("precision %.2f recall %.2f (%d found), want 1.0 and 1.0", precision, recall, tp)
			}
			for _, f := range fs {
				a := f.Activity
				if a.Share < 0.6 || a.TeamCommits < 5 || len(a.TopAuthors) == 0 || a.OwnerShare > 1-a.Share+1e-9 || f.Message == "" {
					t.Errorf("%s evidence = %+v, message %q", f.Entity, a, f.Message)
				}
			}

			// Incremental: the owner of an injected service takes its work
			// back; the same reader reads only the new commits and the
			// finding goes away.
			var flip activityCase
			for _, c := range cases {
				if c.drift != "" && c.drift != "group:default/team-3" {
					flip = c
					break
				}
			}
			owner := flip.owner[len("group:default/team-"):]
			var head string
			for j := range 20 {
				g.write("services/"+flip.name[len("component:default/"):]+"/src/new.go", "u"+owner+"-0@example.com", 0.2-float64(j)/100)
			}
			head = g.pack()
			src := catalog.Source{Name: "svc-repo", Repo: g.dir, Branch: "master", Commit: head}
			before, err := hr.Commits(context.Background(), src, activityNow.Add(-90*24*time.Hour), 10000)
			if err != nil {
				t.Fatal(err)
			}
			resync(t, st, head)
			fs = activityReport(t, cache)
			if slices.ContainsFunc(fs, func(f drift.Finding) bool { return f.Entity == flip.name }) {
				t.Errorf("%s still reported after 20 commits by its owner", flip.name)
			}
			if len(fs) != tp-1 {
				t.Errorf("after the flip: %d findings, want %d", len(fs), tp-1)
			}
			if n := len(before); n < 20 || before[0].Hash != head {
				t.Errorf("Commits after new commits = %d commits, newest %s; want the new ones first", n, before[0].Hash)
			}
		})
	}
}

// resync records head as the source's commit, as a sync that changed code
// but no descriptor does.
func resync(t *testing.T, st catalog.Store, head string) {
	t.Helper()
	srcs, err := st.Sources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.Name == "svc-repo" {
			s.Commit = head
			if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{Source: s}); err != nil {
				t.Fatalf("ApplySync(commit only): %v", err)
			}
		}
	}
}
