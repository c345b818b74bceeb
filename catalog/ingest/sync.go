// One sync of one source, full or incremental, and the rules choosing between them: one
// concept, over 500 lines.

// Package ingest syncs Backstage catalog descriptors from Git sources into
// a catalog.Store: it reads commits straight from Git's object store,
// discovers descriptor files through Location entities, resolves
// placeholders, and sends the store full or incremental batches.
//
// It writes through catalog.Store and never imports catalog/sqlstore, nor
// anything that reads the catalog (commands, bot).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/catalog"
)

// Options configure a Syncer. Zero fields take the defaults named.
type Options struct {
	// CacheDir holds bare clones of remote sources. Empty means remote
	// sources cannot be synced. Each source's sync state is kept in the
	// store (sqlstore keeps it), shared by every process on the database,
	// so the cache directory may be empty or lost at any time; with a store
	// that keeps no state, incremental syncs work within one Syncer's
	// lifetime.
	CacheDir string
	// Logger receives one line per sync; nil means slog.Default's handler
	// is not used and nothing is logged.
	Logger *slog.Logger
	// Placeholders bounds $text/$json/$yaml resolution.
	Placeholders Placeholders
	// Progress, when set, is called from the syncing goroutine as files
	// are processed.
	Progress func(Progress)
	// Sources are all configured sources, for Location targets that are URLs
	// into another source. The synced source need not be listed.
	Sources []Source
	// Getenv reads credentials' environment variables; nil means os.Getenv.
	Getenv func(string) string
	// AlphaModel accepts what only Backstage's alpha catalog model defines
	// (AiResource entities, APIs with spec.remotes and no spec.definition).
	// False fails those documents, as a default Backstage does.
	AlphaModel bool
	// Committed, when set, is called from the syncing goroutine as soon as
	// the store committed a sync that added, updated or removed entities,
	// before the sync's own bookkeeping (saving its state, counting): a
	// reader of the catalog refreshes then, and the change reaches answers
	// that much sooner (issue 19).
	Committed func(source string, r catalog.SyncResult)
}

// Progress reports a sync under way.
type Progress struct {
	Source string
	Phase  string // "fetch", "discover", "apply"
	Files  int    // descriptor files processed so far
	// Total is how many descriptor files the phase expects, 0 when not
	// known: discovery follows Locations, so only a previous sync's count
	// (the same tree, most often) gives one.
	Total int
}

// Result says what one sync of one source did.
type Result struct {
	Source string
	Commit string
	// NoOp is set when the commit had already been synced.
	NoOp bool
	// Full is set when every file was discovered and parsed; otherwise
	// only the files changed since the last sync were.
	Full bool
	// Files is the number of descriptor files parsed.
	Files int
	// Counts are the entities per kind in the store after the sync.
	Counts                             map[string]int
	Added, Updated, Removed, Unchanged int
	// Errors are the source's processing errors after the sync, each with
	// file and line.
	Errors []catalog.ProcessingError
	// Warnings are problems this sync found that did not stop it, each
	// with source and file: a CODEOWNERS file over GitHub's limit, which
	// GitHub ignores and so does the catalog. The source's Message keeps
	// the latest one until a sync no longer finds it.
	Warnings []catalog.ProcessingError
	Duration time.Duration
}

// Syncer syncs sources into a store. It is safe for concurrent use; syncs
// of one source should not overlap (the scheduler and leases see to it).
type Syncer struct {
	store  catalog.Store
	opts   Options
	logger *slog.Logger
	git    *opener
	states *states
}

// New returns a Syncer writing into store.
func New(store catalog.Store, opts Options) *Syncer {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = osGetenv
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sts := &states{}
	if ss, ok := store.(stateStore); ok {
		sts.store = ss
	}
	return &Syncer{
		store:  store,
		opts:   opts,
		logger: logger.With("component", "catalog/ingest"),
		git:    &opener{cacheDir: opts.CacheDir, getenv: getenv},
		states: sts,
	}
}

// Sync brings src's entities in the store up to date with its branch.
// An unchanged commit is a no-op. The error is non-nil only when the sync
// could not run (repository unreachable, root descriptor missing, store
// down); it is then also recorded on the source. Problems with single
// files are in Result.Errors and keep those files' last good entities.
func (s *Syncer) Sync(ctx context.Context, src Source) (Result, error) {
	start := time.Now()
	name := src.SourceName()
	src.Name = name
	res := Result{Source: name}
	fail := func(err error) (Result, error) {
		res.Duration = time.Since(start)
		rec := catalog.Source{Name: name, Repo: redactURL(src.Repo), Branch: src.Branch}
		// The store being down is usually why we are here; the sync's own
		// error is what the caller needs, so a failure to record it is
		// only logged.
		if rerr := s.store.RecordSourceError(ctx, rec, err.Error()); rerr != nil {
			s.logger.WarnContext(ctx, "record source error", "source", name, "err", rerr)
		}
		// Not logged here: every caller reports the returned error, and
		// logging it too printed each failure twice.
		return res, fmt.Errorf("sync %s: %w", name, err)
	}
	s.progress(Progress{Source: name, Phase: "fetch"})
	repo, head, closeRepo, err := s.git.head(ctx, src)
	if err != nil {
		return fail(err)
	}
	defer closeRepo()
	stored, err := s.store.Source(ctx, name)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return fail(err)
	}
	res.Commit = head.Hash.String()
	if stored.Commit != "" && s.unchanged(ctx, stored.Commit, head) {
		res.NoOp, res.Commit = true, stored.Commit
		return s.finish(ctx, res, start)
	}
	snap, err := newSnapshot(repo, head)
	if err != nil {
		return fail(err)
	}
	own := &tree{name: name, snap: snap}
	co := codeOwners(name, snap)
	if co.warning != nil {
		res.Warnings = append(res.Warnings, *co.warning)
	}
	// The state of the store's last sync, whoever ran it. Without one
	// (never synced, or saved by no one) discovery runs in full, which is
	// correct: what a broken file reached is then read from its stored
	// Locations (see discovery.lastGoodChildren).
	var prev *state
	if stored.Commit != "" {
		if prev, err = s.states.load(ctx, name, stored.Commit); err != nil {
			s.logger.WarnContext(ctx, "sync state not read, discovering everything", "source", name, "err", err)
		}
	}
	s.progress(Progress{Source: name, Phase: "discover"})
	var batch catalog.SyncBatch
	var next *state
	if prev != nil && !prev.Foreign {
		batch, next, err = s.partial(ctx, own, repo, stored.Commit, prev)
		if err != nil {
			s.logger.WarnContext(ctx, "incremental sync not possible, discovering everything", "source", name, "err", err)
		}
	}
	var (
		sr       catalog.SyncResult
		streamed bool
	)
	if next == nil {
		d := newDiscovery(s, own, prev)
		// A store that takes files as they come writes them while
		// discovery goes on, so the sync holds a chunk of entities rather
		// than all of them (issue 3: 300 MB peak RSS at 100,000).
		var sw catalog.SyncWriter
		if ss, ok := s.store.(catalog.SyncStreamer); ok {
			if sw, err = ss.BeginSync(ctx, catalog.Source{Name: name, Commit: head.Hash.String()}); err != nil {
				d.close()
				return fail(err)
			}
			defer sw.Rollback()
			// The writer runs beside discovery; the pipe is waited for
			// before sw is committed or rolled back (and so before the
			// deferred Rollback, registered first).
			pp := startPipe(ctx, sw.Add)
			waited := false
			wait := func() error {
				if waited {
					return nil
				}
				waited = true
				return pp.wait()
			}
			defer wait()
			d.sink = pp.add
			d.flushSink = wait
			streamed = true
		}
		files, err := d.run(ctx, src.root())
		if err != nil {
			d.close()
			if sw != nil {
				// Its error, if any, is err or follows from it.
				_ = d.flushSink()
				// Before fail records the error: on SQLite the open write
				// transaction would block it.
				sw.Rollback()
			}
			return fail(err)
		}
		next = &state{Files: d.states, Patterns: sortedKeys(d.patterns)}
		key := head.Hash.String()
		var foreign []string
		for n, t := range d.others {
			if t != nil {
				foreign = append(foreign, n+"@"+t.snap.commit.Hash.String())
			}
		}
		if len(foreign) > 0 {
			sort.Strings(foreign)
			key += " " + strings.Join(foreign, " ")
			next.Foreign = true
		}
		next.Commit = key
		// Nothing refers to d past this point, so its index of the tree
		// and its own map of the files are garbage before the store's
		// write: ~30 MB of live heap at 100,000 entities (a deferred
		// close would keep them).
		d.close()
		// Full even when files are broken and no state says what they
		// reached: discovery followed their stored Locations instead. A
		// partial batch here would keep every deleted file's entities
		// (issue 14: answered forever on a second replica).
		batch = catalog.SyncBatch{Full: true, Files: files}
		res.Files = d.handled
		if streamed {
			s.progress(Progress{Source: name, Phase: "apply", Files: d.handled, Total: d.handled})
			sr, err = sw.Commit(ctx, s.sourceState(src, name, next.Commit, co), batch.Full)
			if err != nil {
				return fail(err)
			}
		}
	} else {
		res.Files = len(batch.Files)
	}
	res.Commit, res.Full = next.Commit, batch.Full
	if !streamed {
		batch.Source = s.sourceState(src, name, next.Commit, co)
		s.progress(Progress{Source: name, Phase: "apply", Files: res.Files, Total: res.Files})
		sr, err = s.store.ApplySync(ctx, batch)
		if err != nil {
			return fail(err)
		}
	}
	if s.opts.Committed != nil && sr.Added+sr.Updated+sr.Removed > 0 {
		s.opts.Committed(name, sr)
	}
	// After the commit, and only for the commit it describes: a state
	// that is lost or dropped costs the next sync full discovery, never
	// correctness.
	if err := s.states.save(ctx, name, next); err != nil {
		s.logger.WarnContext(ctx, "sync state not saved; the next sync discovers everything", "source", name, "err", err)
	}
	res.Added, res.Updated, res.Removed, res.Unchanged = sr.Added, sr.Updated, sr.Removed, sr.Unchanged
	return s.finish(ctx, res, start)
}

// sourceState is the source's state recorded by a sync to commit key. A
// warning is kept in Message, with status ok, until a sync no longer has it.
func (s *Syncer) sourceState(src Source, name, key string, co codeOwnersFile) catalog.Source {
	st := catalog.Source{
		Name: name, Repo: redactURL(src.Repo), Branch: src.Branch, Commit: key,
		Status: "ok", SyncedAt: time.Now().UTC(), CodeOwners: co.text,
	}
	if co.warning != nil {
		st.Message = co.warning.String()
	}
	return st
}

// finish fills the counts and the source's current errors.
func (s *Syncer) finish(ctx context.Context, res Result, start time.Time) (Result, error) {
	var err error
	if res.Counts, err = s.store.Counts(ctx); err != nil {
		return res, fmt.Errorf("sync %s: counts: %w", res.Source, err)
	}
	if res.Errors, err = s.store.ProcessingErrors(ctx, res.Source); err != nil {
		return res, fmt.Errorf("sync %s: errors: %w", res.Source, err)
	}
	res.Duration = time.Since(start)
	s.logger.InfoContext(ctx, "sync finished", "source", res.Source, "commit", res.Commit, "noop", res.NoOp, "full", res.Full,
		"files", res.Files, "added", res.Added, "updated", res.Updated, "removed", res.Removed, "errors", len(res.Errors), "took_s", res.Duration.Seconds())
	for _, w := range res.Warnings {
		s.logger.WarnContext(ctx, "sync warning", "source", res.Source, "file", w.Path, "err", w.Message)
	}
	return res, nil
}

func (s *Syncer) progress(p Progress) {
	if s.opts.Progress != nil {
		s.opts.Progress(p)
	}
}

// unchanged reports whether the stored commit key still describes the
// source: its own head and, when discovery read other sources, theirs.
func (s *Syncer) unchanged(ctx context.Context, key string, head *object.Commit) bool {
	parts := strings.Fields(key)
	if len(parts) == 0 || parts[0] != head.Hash.String() {
		return false
	}
	for _, f := range parts[1:] {
		name, commit, ok := strings.Cut(f, "@")
		if !ok {
			return false
		}
		src, ok := s.source(name)
		if !ok {
			return false
		}
		_, c, closeRepo, err := s.git.head(ctx, src)
		if err != nil {
			return false
		}
		closeRepo()
		if c.Hash.String() != commit {
			return false
		}
	}
	return true
}

// errFull means an incremental sync would not be correct.
type errFull string

func (e errFull) Error() string { return string(e) }

// partial builds an incremental batch from the files changed between the
// stored commit and head, or returns a nil state when only full discovery
// is correct: a Location's file changed, a file appeared that a Location
// target matches, or an exactly named target was removed.
func (s *Syncer) partial(ctx context.Context, own *tree, repo *git.Repository, from string, prev *state) (catalog.SyncBatch, *state, error) {
	var b catalog.SyncBatch
	old, err := repo.CommitObject(plumbing.NewHash(strings.Fields(from)[0]))
	if err != nil {
		return b, nil, fmt.Errorf("previous commit: %w", err)
	}
	changed := map[string]bool{} // path -> still exists
	if err := diffTrees(repo, "", old.TreeHash, own.snap.commit.TreeHash, changed); err != nil {
		return b, nil, fmt.Errorf("diff: %w", err)
	}
	dependents := map[string][]string{}
	for f, st := range prev.Files {
		for _, d := range st.Deps {
			dependents[d] = append(dependents[d], f)
		}
	}
	reparse := map[string]bool{}
	removed := map[string]bool{}
	for p, exists := range changed {
		gone := !exists
		if st, ok := prev.Files[p]; ok {
			switch {
			case st.Location:
				return b, nil, errFull("a Location's file changed: " + p)
			case gone && st.Explicit:
				return b, nil, errFull("a Location target was removed: " + p)
			case gone:
				removed[p] = true
			default:
				reparse[p] = true
			}
		} else if !gone && s.reachable(prev, p) {
			return b, nil, errFull("a file discovery may now reach appeared: " + p)
		}
		for _, f := range dependents[p] {
			reparse[f] = true
		}
	}
	next := &state{Commit: own.snap.commit.Hash.String(), Files: make(map[string]fileState, len(prev.Files)), Patterns: prev.Patterns}
	for k, v := range prev.Files {
		next.Files[k] = v
	}
	for p := range removed {
		delete(next.Files, p)
		delete(reparse, p)
		b.Files = append(b.Files, catalog.FileResult{Path: p, Removed: true})
	}
	d := newDiscovery(s, own, prev)
	defer d.close()
	for _, p := range sortedKeys(reparse) {
		st := prev.Files[p]
		d.enqueue(item{t: own, path: p, typ: st.Type, explicit: st.Explicit})
	}
	var ferr error
	err = d.parseAll(ctx, func(ctx context.Context, p parsed) {
		fr := catalog.FileResult{Path: p.it.key(), Entities: p.ents, Errors: p.errs, Documents: p.docs, Prepared: p.prepared}
		d.settle(ctx, p, &fr, p.failed)
		st := next.Files[fr.Path]
		st.Deps = p.deps
		st.Location = len(fr.Errors) > 0
		for _, e := range fr.Entities {
			if strings.EqualFold(e.Kind, catalog.KindLocation) {
				ferr = errFull("a file now declares a Location: " + fr.Path)
			}
		}
		next.Files[fr.Path] = st
		b.Files = append(b.Files, fr)
	})
	if err != nil {
		return b, nil, err
	}
	if ferr != nil {
		return b, nil, ferr
	}
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path < b.Files[j].Path })
	return b, next, nil
}

// reachable reports whether a Location target of the previous discovery
// (an exact path or a glob) matches p.
func (s *Syncer) reachable(prev *state, p string) bool {
	for _, pat := range prev.Patterns {
		if pat == p {
			return true
		}
		if strings.ContainsAny(pat, "*?[{") {
			if ok, _ := pathMatch(pat, p); ok {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// codeOwnersFile is the CODEOWNERS file a sync stores for a source.
type codeOwnersFile struct {
	text    string                   // "" when none, or when it is over the limit
	warning *catalog.ProcessingError // set when the file is over the limit
}

// codeOwners reads the first CODEOWNERS file GitHub would use, up to
// GitHub's limit. A file over it is not loaded, as on GitHub, but reported
// with its size, which comes from the object header: it is never read
// whole. GitHub "will use the first one it finds" and documents no
// fallback for one it does not load, so neither is there one here.
func codeOwners(name string, snap *snapshot) codeOwnersFile {
	for _, p := range catalog.CodeOwnersPaths {
		b, err := snap.readFile(p, catalog.MaxCodeOwnersSize)
		if err == nil {
			return codeOwnersFile{text: string(b)}
		}
		var big *tooLargeError
		if errors.As(err, &big) {
			return codeOwnersFile{warning: &catalog.ProcessingError{Source: name, Path: p, Message: fmt.Sprintf(
				"CODEOWNERS file is %d bytes, over GitHub's limit of %d: GitHub does not load it, nor does the catalog (drift's codeowners-mismatch and owner's cross-check ignore it)",
				big.size, big.limit)}}
		}
	}
	return codeOwnersFile{}
}

// source returns the configured source called name.
func (s *Syncer) source(name string) (Source, bool) {
	for _, src := range s.opts.Sources {
		if src.SourceName() == name {
			src.Name = name
			return src, true
		}
	}
	return Source{}, false
}

// sourceFor finds the configured source for a repository at host/repoPath:
// one whose Repo URL names it, or else one whose Name is repoPath.
func (s *Syncer) sourceFor(host, repoPath string) (string, bool) {
	want := strings.ToLower(host + "/" + strings.TrimSuffix(repoPath, ".git"))
	for _, src := range s.opts.Sources {
		if repoKey(src.Repo) == want {
			return src.SourceName(), true
		}
	}
	for _, src := range s.opts.Sources {
		if strings.EqualFold(src.SourceName(), repoPath) {
			return src.SourceName(), true
		}
	}
	return "", false
}

// repoKey normalises a repository URL to host/path, lower case, without
// user, port, scheme or ".git".
func repoKey(repo string) string {
	if m := scpRE.FindStringSubmatch(repo); m != nil && !strings.Contains(repo, "://") {
		return strings.ToLower(m[1] + "/" + strings.TrimSuffix(strings.Trim(m[2], "/"), ".git"))
	}
	u, err := url.Parse(repo)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Hostname() + "/" + strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git"))
}
