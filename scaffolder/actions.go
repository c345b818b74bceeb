package scaffolder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/portalbot/portalbot/catalog"
)

// Skeleton limits: a template must not fill the disk.
const (
	maxSkeletonFiles = 5000
	maxSkeletonBytes = 64 << 20
)

// errPathEscape is returned when a skeleton, target path or rendered file
// name would write outside the run's workspace.
var errPathEscape = errors.New("path escapes the workspace")

// fetchTemplate renders the skeleton directory at input url (relative to
// the template's file in its source) into the workspace.
func (r *Runner) fetchTemplate(ctx context.Context, st *runState, in map[string]any) (map[string]any, error) {
	if r.p.Files == nil {
		return nil, errors.New("no source files are available to the runner")
	}
	u := toString(in["url"])
	if u == "" || strings.Contains(u, "://") || strings.HasPrefix(u, "/") {
		return nil, fmt.Errorf("url %q: the built-in runner only fetches directories relative to the template", u)
	}
	origin := st.run.Template.Entity.Origin
	src := path.Clean(path.Join(path.Dir(origin.Path), u))
	if !fs.ValidPath(src) {
		return nil, fmt.Errorf("url %q: %w", u, errPathEscape)
	}
	fsys, err := r.p.Files.SourceFS(ctx, origin)
	if err != nil {
		return nil, fmt.Errorf("source of %s: %w", st.run.Template.Ref, err)
	}
	skel, err := fs.Sub(fsys, src)
	if err != nil {
		return nil, err
	}
	target := toString(in["targetPath"])
	if target == "" {
		target = "."
	}
	if !filepath.IsLocal(filepath.FromSlash(target)) && filepath.Clean(target) != "." {
		return nil, fmt.Errorf("targetPath %q: %w", target, errPathEscape)
	}
	values, _ := in["values"].(map[string]any)
	if values == nil {
		values = map[string]any{}
	}
	raw := append(stringList(in["copyWithoutRender"]), stringList(in["copyWithoutTemplating"])...)
	ext := ""
	switch e := in["templateFileExtension"].(type) {
	case bool:
		if e {
			ext = ".njk"
		}
	case string:
		ext = e
	}
	root, err := os.OpenRoot(st.workspace)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	scope := exprScope{"values": values, "secrets": st.scope["secrets"], "user": st.scope["user"]}
	return map[string]any{}, renderSkeleton(ctx, skel, root, target, scope, raw, ext)
}

// renderSkeleton copies skel into root below target, rendering ${{ }}
// expressions in file names and contents. Every written path is checked
// to stay inside root (os.Root also refuses symlinks leading out).
func renderSkeleton(ctx context.Context, skel fs.FS, root *os.Root, target string, scope exprScope, raw []string, ext string) error {
	files, total := 0, 0
	found := false
	err := fs.WalkDir(skel, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		found = true
		if p == "." {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 || (!d.IsDir() && !d.Type().IsRegular()) {
			return fmt.Errorf("skeleton %s: only files and directories are allowed", p)
		}
		name, err := renderText(p, scope)
		if err != nil {
			return fmt.Errorf("skeleton name %s: %w", p, err)
		}
		if ext != "" && !d.IsDir() {
			name = strings.TrimSuffix(name, ext)
		}
		out := filepath.Join(filepath.FromSlash(target), filepath.FromSlash(name))
		if strings.TrimSpace(name) == "" || !filepath.IsLocal(filepath.FromSlash(name)) || !filepath.IsLocal(out) {
			return fmt.Errorf("skeleton %s renders to %q: %w", p, name, errPathEscape)
		}
		if d.IsDir() {
			return root.MkdirAll(out, 0o755)
		}
		files++
		if files > maxSkeletonFiles {
			return fmt.Errorf("skeleton has more than %d files", maxSkeletonFiles)
		}
		data, err := fs.ReadFile(skel, p)
		if err != nil {
			return err
		}
		total += len(data)
		if total > maxSkeletonBytes {
			return fmt.Errorf("skeleton is larger than %d MiB", maxSkeletonBytes>>20)
		}
		render := !bytes.Contains(data, []byte{0})
		for _, g := range raw {
			if ok, _ := doublestar.Match(g, p); ok {
				render = false
			}
		}
		if ext != "" && !strings.HasSuffix(p, ext) {
			render = false
		}
		if render {
			s, err := renderTemplate(ctx, string(data), scope)
			if err != nil {
				return fmt.Errorf("skeleton %s: %w", p, err)
			}
			if isYAMLFile(name) {
				if err := checkYAMLShape(string(data), s); err != nil {
					return fmt.Errorf("skeleton %s: %w", p, err)
				}
			}
			data = []byte(s)
		}
		if dir := filepath.Dir(out); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		return root.WriteFile(out, data, 0o644)
	})
	if err == nil && !found {
		return errors.New("skeleton directory not found")
	}
	return err
}

// branchRE is a conservative Git branch name.
var branchRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$`)

// publishGit commits the workspace and pushes it to a new repository under
// PublishBase: a bare repository owner/repo.git in a local directory, or
// PublishBase/owner/repo.git on a remote.
func (r *Runner) publishGit(ctx context.Context, st *runState, in map[string]any) (map[string]any, error) {
	if r.p.PublishBase == "" {
		return nil, errors.New("templates.publish_base is not configured, so there is nowhere to publish")
	}
	repo, err := parseRepoURL(toString(in["repoUrl"]))
	if err != nil {
		return nil, err
	}
	owner := repo.Owner
	if owner == "" {
		owner = repo.Organization
	}
	branch := toString(in["defaultBranch"])
	if branch == "" {
		branch = "main"
	}
	if !branchRE.MatchString(branch) || strings.Contains(branch, "..") {
		return nil, fmt.Errorf("defaultBranch %q is not a valid branch name", branch)
	}
	dir := st.workspace
	if sp := toString(in["sourcePath"]); sp != "" {
		if !filepath.IsLocal(filepath.FromSlash(sp)) {
			return nil, fmt.Errorf("sourcePath %q: %w", sp, errPathEscape)
		}
		dir = filepath.Join(dir, filepath.FromSlash(sp))
	}
	remote := ""
	rel := path.Join(owner, repo.Repo+".git")
	if strings.Contains(r.p.PublishBase, "://") {
		remote = strings.TrimRight(r.p.PublishBase, "/") + "/" + rel
	} else {
		remote = filepath.Join(r.p.PublishBase, filepath.FromSlash(rel))
		if _, err := os.Stat(remote); err == nil {
			return nil, fmt.Errorf("repository %s already exists", rel)
		}
		if err := os.MkdirAll(filepath.Dir(remote), 0o755); err != nil {
			return nil, err
		}
		if _, err := git.PlainInitWithOptions(remote, &git.PlainInitOptions{
			Bare:        true,
			InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
		}); err != nil {
			return nil, fmt.Errorf("create %s: %w", rel, err)
		}
	}
	g, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	wt, err := g.Worktree()
	if err != nil {
		return nil, err
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	msg := toString(in["gitCommitMessage"])
	if msg == "" {
		msg = "Initial commit"
	}
	u := st.run.User
	author := &object.Signature{Name: firstNonEmpty(toString(in["gitAuthorName"]), u.Name, u.ID, "portalbot"), Email: firstNonEmpty(toString(in["gitAuthorEmail"]), u.Email, "portalbot@localhost"), When: r.p.Now()}
	committer := &object.Signature{Name: "portalbot", Email: "portalbot@localhost", When: author.When}
	hash, err := wt.Commit(msg, &git.CommitOptions{Author: author, Committer: committer, AllowEmptyCommits: true})
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	if _, err := g.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
		return nil, err
	}
	ref := plumbing.NewBranchReferenceName(branch)
	err = g.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec(ref + ":" + ref)},
		Auth:       r.p.PublishAuth,
	})
	if err != nil {
		return nil, fmt.Errorf("push to %s: %w", rel, err)
	}
	st.published = &published{dir: dir, remote: remote, branch: branch, commit: hash.String(), name: owner + "/" + repo.Repo}
	remoteURL := remote
	if !strings.Contains(remote, "://") {
		remoteURL = "file://" + filepath.ToSlash(remote)
	}
	return map[string]any{
		"remoteUrl":       remoteURL,
		"repoContentsUrl": remoteURL + "#" + branch,
		"commitHash":      hash.String(),
	}, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// register parses the published repository's catalog-info.yaml and stores
// its entities as a new source named after the repository, so the bot
// answers for the new component at once; the next sync of a configured
// source holding the same file takes over nothing (refs stay with the
// first source, as the store rules).
func (r *Runner) register(ctx context.Context, st *runState, in map[string]any) (map[string]any, error) {
	pub := st.published
	if pub == nil {
		return nil, errors.New("the built-in catalog:register registers what publish:git published; no publish:git step ran before it")
	}
	p := toString(in["catalogInfoPath"])
	if p == "" {
		p = "catalog-info.yaml"
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" || !fs.ValidPath(p) {
		return nil, fmt.Errorf("catalogInfoPath %q: %w", toString(in["catalogInfoPath"]), errPathEscape)
	}
	root, err := os.OpenRoot(pub.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := root.ReadFile(filepath.FromSlash(p))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	ents, perrs := catalog.Parse(bytes.NewReader(data), p)
	if len(perrs) > 0 {
		msgs := make([]string, len(perrs))
		for i, e := range perrs {
			msgs[i] = e.String()
		}
		return nil, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("%s holds no entity", p)
	}
	for _, e := range ents {
		e.Origin.Source, e.Origin.Commit = pub.name, pub.commit
	}
	res, err := r.p.Store.ApplySync(ctx, catalog.SyncBatch{
		Source: catalog.Source{Name: pub.name, Repo: pub.remote, Branch: pub.branch, Commit: pub.commit, Status: "ok", SyncedAt: r.p.Now().UTC().Truncate(time.Second)},
		Full:   true,
		Files:  []catalog.FileResult{{Path: p, Entities: ents}},
	})
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("register: %s", res.Errors[0].String())
	}
	return map[string]any{"entityRef": ents[0].Ref().String(), "catalogInfoUrl": pub.remote + "#" + p}, nil
}
