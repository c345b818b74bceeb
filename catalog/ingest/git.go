package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/portalbot/portalbot/catalog"
)

// Environment variables read for Git credentials when a Source names none.
const (
	DefaultTokenEnv  = "PORTALBOT_GIT_TOKEN"
	SSHKeyEnv        = "PORTALBOT_GIT_SSH_KEY"      // private key text
	SSHKeyFileEnv    = "PORTALBOT_GIT_SSH_KEY_FILE" // private key file
	DefaultRoot      = "catalog-info.yaml"
	tokenDefaultUser = "x-access-token" // GitHub ignores the user name for tokens; GitLab accepts any non-empty one
)

// Source is one Git repository holding catalog descriptors. It mirrors
// bot.SourceConfig; the zero values mean the same.
type Source struct {
	// Name identifies the source in the store; empty means derived from Repo.
	Name string
	// Repo is a local path, file://, https://, ssh:// or scp-style URL.
	Repo string
	// Branch is a branch, tag or commit; empty means the remote's HEAD.
	Branch string
	// Root is the root descriptor path; empty means catalog-info.yaml.
	Root string
	// TokenEnv names the variable holding an HTTPS token; empty means
	// PORTALBOT_GIT_TOKEN.
	TokenEnv string
	// SSHKeyFile is a private key file for SSH; empty means the key text in
	// PORTALBOT_GIT_SSH_KEY or the file named by PORTALBOT_GIT_SSH_KEY_FILE.
	SSHKeyFile string
}

// SourceName returns s.Name, or a name derived from s.Repo: the last two
// path elements without ".git" ("acme/catalog").
func (s Source) SourceName() string {
	if s.Name != "" {
		return s.Name
	}
	p := strings.TrimSuffix(strings.TrimRight(s.Repo, "/"), ".git")
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j+1:]
		}
	} else if m := scpRE.FindStringSubmatch(p); m != nil {
		p = m[2]
	}
	parts := strings.Split(filepath.ToSlash(p), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return parts[len(parts)-1]
}

func (s Source) root() string {
	if s.Root == "" {
		return DefaultRoot
	}
	return strings.TrimPrefix(s.Root, "./")
}

// Secret is a credential. It never prints or logs its value.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return "[redacted]" }

// LogValue implements slog.LogValuer so that a Secret logged by mistake
// shows "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// scpRE matches scp-style Git addresses, user@host:path.
var scpRE = regexp.MustCompile(`^(?:[A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+):([^/].*)$`)

// isLocal reports whether repo is a local path opened in place.
func isLocal(repo string) bool {
	return !strings.Contains(repo, "://") && !scpRE.MatchString(repo)
}

// auth returns the credentials for repo, read through getenv; nil means
// none (local and file:// repositories, or no token set).
func auth(src Source, getenv func(string) string) (transport.AuthMethod, error) {
	repo := src.Repo
	switch {
	case strings.HasPrefix(repo, "https://") || strings.HasPrefix(repo, "http://"):
		env := src.TokenEnv
		if env == "" {
			env = DefaultTokenEnv
		}
		tok := Secret(getenv(env))
		if tok == "" {
			return nil, nil
		}
		user := tokenDefaultUser
		if u, err := url.Parse(repo); err == nil && u.User != nil && u.User.Username() != "" {
			user = u.User.Username()
		}
		return &githttp.BasicAuth{Username: user, Password: string(tok)}, nil
	case strings.HasPrefix(repo, "ssh://") || (!strings.Contains(repo, "://") && scpRE.MatchString(repo)):
		user := "git"
		if u, err := url.Parse(repo); err == nil && u.User != nil && u.User.Username() != "" {
			user = u.User.Username()
		} else if i := strings.IndexByte(repo, '@'); i > 0 && !strings.Contains(repo, "://") {
			user = repo[:i]
		}
		if key := Secret(getenv(SSHKeyEnv)); key != "" {
			a, err := gitssh.NewPublicKeys(user, []byte(key), "")
			if err != nil {
				return nil, fmt.Errorf("ssh key from %s: %w", SSHKeyEnv, err)
			}
			return a, nil
		}
		file := src.SSHKeyFile
		if file == "" {
			file = getenv(SSHKeyFileEnv)
		}
		if file == "" {
			if getenv("SSH_AUTH_SOCK") == "" {
				// go-git would fall back to an agent and fail with
				// "SSH_AUTH_SOCK not-specified", naming no fix.
				return nil, fmt.Errorf("ssh source %s needs a private key: set %s to a key file (or %s to the key text, or ssh_key_file in the source's config), or run an SSH agent (SSH_AUTH_SOCK)", redactURL(repo), SSHKeyFileEnv, SSHKeyEnv)
			}
			return nil, nil // go-git uses the SSH agent
		}
		a, err := gitssh.NewPublicKeysFromFile(user, file, "")
		if err != nil {
			return nil, fmt.Errorf("ssh key file: %w", err)
		}
		return a, nil
	}
	return nil, nil
}

// redactURL drops any user info from a repository URL, for messages.
func redactURL(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return repo
	}
	u.User = nil
	return u.String()
}

// opener opens sources' repositories: local ones in place, remote ones as
// bare clones in a cache directory that later syncs only fetch into.
type opener struct {
	cacheDir string
	getenv   func(string) string

	mu    sync.Mutex             // guards locks
	locks map[string]*sync.Mutex // per cache directory
}

func (o *opener) lock(dir string) func() {
	o.mu.Lock()
	if o.locks == nil {
		o.locks = map[string]*sync.Mutex{}
	}
	l := o.locks[dir]
	if l == nil {
		l = &sync.Mutex{}
		o.locks[dir] = l
	}
	o.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// head resolves src's branch to a commit, fetching into the cache when the
// commit is not there yet, and returns the repository and the commit.
// The caller must call close when done reading the repository.
func (o *opener) head(ctx context.Context, src Source) (r *git.Repository, c *object.Commit, close func(), err error) {
	if isLocal(src.Repo) {
		r, closer, err := openRepo(src.Repo, true)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open %s: %w", src.Repo, err)
		}
		c, err := resolveCommit(r, src.Branch)
		if err != nil {
			closer()
			return nil, nil, nil, fmt.Errorf("resolve %s in %s: %w", branchName(src.Branch), src.Repo, err)
		}
		return r, c, closer, nil
	}
	r, c, err = o.fetch(ctx, src)
	if err != nil {
		return nil, nil, nil, err
	}
	// Reopen the clone for reading with pack files kept open.
	dir := o.dir(src)
	r, closer, err := openRepo(dir, true)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	if c, err = r.CommitObject(c.Hash); err != nil {
		closer()
		return nil, nil, nil, err
	}
	return r, c, closer, nil
}

// objectCache bounds go-git's cache of decoded objects per open repository.
// A sync reads each blob once and each tree about once (snapshot indexes
// the entries it reads), so go-git's default of 96 MiB mostly held dead
// blobs: a third of the live heap of a 100,000-entity full sync.
const objectCache = 8 * cache.MiByte

// largeObject is the size above which go-git leaves an object on disk
// until it is read: a loose object is otherwise inflated whole into memory
// to learn its size (a 100 MB blob committed loose cost ~600 MB of
// allocations per look). Above it, the size comes from the object header
// and the content is streamed; descriptors are at most catalog.MaxFileSize,
// so every object a sync reads in full stays under it.
const largeObject = catalog.MaxFileSize

// openRepo opens the repository at dir (bare, or a work tree with .git)
// for reading. With keep, pack files stay open between object reads
// (go-git otherwise reopens the pack for every object) until the returned
// close; without, close is a no-op and may be dropped.
func openRepo(dir string, keep bool) (*git.Repository, func(), error) {
	gitDir := dir
	if fi, err := os.Stat(filepath.Join(dir, ".git")); err == nil && fi.IsDir() {
		gitDir = filepath.Join(dir, ".git")
	}
	if _, err := os.Stat(filepath.Join(gitDir, "HEAD")); err != nil {
		return nil, nil, git.ErrRepositoryNotExists
	}
	st := filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(objectCache),
		filesystem.Options{KeepDescriptors: keep, LargeObjectThreshold: largeObject})
	r, err := git.Open(st, nil)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return r, func() { st.Close() }, nil
}

func resolveCommit(r *git.Repository, branch string) (*object.Commit, error) {
	h, err := resolve(r, branch)
	if err != nil {
		return nil, err
	}
	return r.CommitObject(h)
}

func (o *opener) dir(src Source) string {
	sum := sha256.Sum256([]byte(src.Repo))
	return filepath.Join(o.cacheDir, "git", safeName(src.SourceName())+"-"+hex.EncodeToString(sum[:6]))
}

// fetch brings the commit src names into the cache's bare clone.
func (o *opener) fetch(ctx context.Context, src Source) (*git.Repository, *object.Commit, error) {
	a, err := auth(src, o.getenv)
	if err != nil {
		return nil, nil, err
	}
	name := redactURL(src.Repo)
	want, refName, err := remoteHead(ctx, src, a)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", name, err)
	}
	if o.cacheDir == "" {
		return nil, nil, fmt.Errorf("fetch %s: no cache directory configured", name)
	}
	dir := o.dir(src)
	defer o.lock(dir)()
	r, err := openCache(dir, src.Repo)
	if err != nil {
		return nil, nil, fmt.Errorf("cache %s: %w", name, err)
	}
	if c, err := r.CommitObject(want); err == nil {
		return r, c, nil // already fetched: a no-op sync costs one ls-remote
	}
	spec := config.RefSpec("+" + refName + ":" + refName)
	if refName == "" {
		spec = config.RefSpec("+refs/heads/*:refs/heads/*")
	}
	err = r.FetchContext(ctx, &git.FetchOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{spec}, Auth: a, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	c, err := r.CommitObject(want)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: commit %s not fetched: %w", name, want, err)
	}
	return r, c, nil
}

func branchName(b string) string {
	if b == "" {
		return "HEAD"
	}
	return b
}

// resolve turns a branch, tag or commit (or "" for HEAD) into a commit.
func resolve(r *git.Repository, branch string) (plumbing.Hash, error) {
	if branch == "" {
		ref, err := r.Head()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		return ref.Hash(), nil
	}
	h, err := r.ResolveRevision(plumbing.Revision(branch))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return *h, nil
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// remoteHead asks the remote (ls-remote) which commit src's branch names,
// and which ref to fetch for it ("" when the branch is a commit hash).
func remoteHead(ctx context.Context, src Source, a transport.AuthMethod) (plumbing.Hash, plumbing.ReferenceName, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{src.Repo}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: a})
	if err != nil {
		return plumbing.ZeroHash, "", err
	}
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	var candidates []plumbing.ReferenceName
	switch {
	case src.Branch == "":
		h := byName[plumbing.HEAD]
		if h == nil {
			return plumbing.ZeroHash, "", fmt.Errorf("remote has no HEAD")
		}
		if h.Type() == plumbing.SymbolicReference {
			candidates = []plumbing.ReferenceName{h.Target()}
		} else {
			// No symref advertised: fetch the branch HEAD points at by hash.
			for n, r := range byName {
				if n.IsBranch() && r.Hash() == h.Hash() {
					return h.Hash(), n, nil
				}
			}
			return h.Hash(), "", nil
		}
	case hashRE.MatchString(src.Branch):
		return plumbing.NewHash(src.Branch), "", nil
	case strings.HasPrefix(src.Branch, "refs/"):
		candidates = []plumbing.ReferenceName{plumbing.ReferenceName(src.Branch)}
	default:
		candidates = []plumbing.ReferenceName{plumbing.NewBranchReferenceName(src.Branch), plumbing.NewTagReferenceName(src.Branch)}
	}
	for _, n := range candidates {
		if r := byName[n]; r != nil && r.Type() == plumbing.HashReference {
			return r.Hash(), n, nil
		}
	}
	return plumbing.ZeroHash, "", fmt.Errorf("no branch or tag %q", branchName(src.Branch))
}

// openCache opens or creates the bare clone at dir. A directory that does
// not open as a repository (an interrupted first clone) is recreated.
func openCache(dir, repo string) (*git.Repository, error) {
	if r, err := git.PlainOpen(dir); err == nil {
		return r, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	r, err := git.PlainInit(dir, true)
	if err != nil {
		return nil, err
	}
	if _, err := r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{repo}}); err != nil {
		return nil, err
	}
	return r, nil
}

var unsafeRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return strings.Trim(unsafeRE.ReplaceAllString(s, "_"), "._") }

func osGetenv(k string) string { return os.Getenv(k) }
