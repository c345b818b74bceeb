// Discovery is one walk (queue, Location targets, globs, other sources, order), over 500
// lines in one file because its parts share the walk's state.

package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/portalbot/portalbot/catalog"
)

// rootType is the Location type of every source's root descriptor: the
// catalog reads sources through Git, as Backstage's "url" locations do.
// PLATFORM.md: relative targets resolve only when the child Location's type
// equals its parent's (a Location without a type inherits it).
const rootType = "url"

// tree is one source's commit as discovery sees it.
type tree struct {
	name    string // source name
	snap    *snapshot
	foreign bool // another configured source, reached by URL
}

// item is a descriptor file discovery will read.
type item struct {
	t        *tree
	path     string // in t
	typ      string // Location type it was reached with
	explicit bool   // named exactly by a Location (not a glob)
	// blob is the file's tree entry when the Location's walk found it
	// (a zero Hash otherwise): reading it then walks no tree again.
	blob object.TreeEntry
	// glob, when set, makes the item a Location's glob target not walked
	// yet: path is the pattern, and expand replaces the item with its
	// matches when it reaches the head of the queue.
	glob *globTarget
}

// globTarget is a glob target waiting in the queue. A large glob (a
// directory per service: tens of thousands of trees to read) is walked
// when discovery gets to it rather than when its Location is handled, so
// that the files listed before it are read, parsed and written meanwhile:
// at 100,000 entities the root's glob held every worker and the database
// idle for 0.85 s at the start of a full sync (issue 19). The queue,
// which file claims a ref first, and the Location file's recorded children
// come out as if it had been walked at once (expand).
type globTarget struct {
	location, target string // for errors
	owner            string // key of the Location's file
	at               int    // where its matches go in the owner's Children
}

func (it item) key() string {
	if it.t.foreign {
		return it.t.name + ":" + it.path
	}
	return it.path
}

// parsed is one file's parse, done by a worker.
type parsed struct {
	seq  int // the file's place in discovery order
	it   item
	ents []*catalog.Entity
	errs []catalog.ProcessingError
	deps []string
	// fatal says errs concern the file as a whole (it could not be read or
	// parsed); otherwise each concerns one document (see settle).
	fatal bool
	// failed are the refs of documents that failed on their own.
	failed []catalog.Ref
	// docs are the entities' stamped documents (catalog.FileResult.Documents).
	docs map[*catalog.Entity][]byte
	// prepared is what the store's SyncPreparer made of the entities
	// (catalog.FileResult.Prepared).
	prepared map[*catalog.Entity]any
}

// discovery walks a source from its root descriptor through Location
// targets, parsing files in parallel. It runs on one goroutine (the
// coordinator) except for parseFile, which workers call.
type discovery struct {
	s    *Syncer
	own  *tree
	prev *state // may be nil
	// others are the foreign sources opened so far, by name.
	others map[string]*tree

	// files are the results in discovery order, the order in which the
	// store decides which of two files defining one ref keeps it.
	files []catalog.FileResult
	// sink, when set, takes each file's result as it is settled instead
	// of files, so that a full sync never holds every parsed entity; its
	// first error stops discovery (sinkErr).
	sink    func(context.Context, catalog.FileResult) error
	sinkErr error
	// flushSink, when set, waits until sink has written every file it
	// took (it may write behind discovery) and returns its error.
	flushSink func() error
	// handled counts the files handled.
	handled int
	// stored are the source's stored Location entities by file, read
	// once when a broken file has no previous state (nil until then).
	stored   map[string][]*catalog.Entity
	states   map[string]fileState
	patterns map[string]bool
	queue    []item
	seen     map[string]bool
	// globbed counts, per Location file, the children its expanded globs
	// inserted (see expand).
	globbed map[string]int
	closers []func() // of foreign repositories
	// reads is shared by the placeholders of every file of the sync.
	reads *placeholderReads
}

// close closes the foreign repositories discovery opened.
func (d *discovery) close() {
	for _, c := range d.closers {
		c()
	}
	d.closers = nil
}

func newDiscovery(s *Syncer, own *tree, prev *state) *discovery {
	return &discovery{
		s: s, own: own, prev: prev,
		others:   map[string]*tree{},
		states:   map[string]fileState{},
		reads:    newPlaceholderReads(s.opts.Placeholders),
		patterns: map[string]bool{},
		seen:     map[string]bool{},
		globbed:  map[string]int{},
	}
}

// follow queues child, reached through a Location of the file whose
// state is st (key), and records it among the file's children; a glob is
// recorded when expand walks it.
func (d *discovery) follow(key string, st *fileState, child item) {
	if child.glob != nil {
		child.glob.owner, child.glob.at = key, len(st.Children)
		d.queue = append(d.queue, child)
		return
	}
	st.Children = append(st.Children, child.key())
	d.enqueue(child)
}

func (d *discovery) enqueue(it item) {
	k := it.key()
	if d.seen[k] {
		return // a cycle or a file reached twice: processed once
	}
	d.seen[k] = true
	d.queue = append(d.queue, it)
}

// run discovers from root and returns every file's result in discovery
// order (breadth first from the root, each Location's targets in their
// listed order, a glob's matches in path order), as Backstage's catalog
// would first see them.
func (d *discovery) run(ctx context.Context, root string) ([]catalog.FileResult, error) {
	if e, err := d.own.snap.entry(root); err != nil || e.Mode != filemode.Regular && e.Mode != filemode.Executable {
		return nil, fmt.Errorf("root descriptor %s: not a file at commit %s", root, d.own.snap.commit.Hash)
	}
	d.enqueue(item{t: d.own, path: root, typ: rootType, explicit: true})
	if err := d.parseAll(ctx, d.handle); err != nil {
		return nil, err
	}
	if d.flushSink != nil {
		if err := d.flushSink(); err != nil {
			return nil, err
		}
	}
	return d.files, nil
}

// parseAll drains the queue: the coordinator reads blobs (go-git's store is
// read by one goroutine at a time anyway) and GOMAXPROCS workers parse;
// handle runs on the coordinator for each result, in queue order whatever
// order the workers finish in, and may enqueue more. So which of two files
// defining one ref the store sees first, and the order of the queue
// itself, never depend on timing (issue 14). At most workers files wait
// unparsed at once, and at most window parsed ones wait for a slower one
// before them.
func (d *discovery) parseAll(ctx context.Context, handle func(context.Context, parsed)) error {
	workers := runtime.GOMAXPROCS(0)
	window := 4 * workers
	type job struct {
		seq  int
		it   item
		data []byte
	}
	jobs := make(chan job, workers)
	results := make(chan parsed, workers)
	done := make(chan struct{})
	defer close(done)
	for range workers {
		go func() {
			for j := range jobs {
				p := d.parseFile(ctx, j.it, j.data)
				p.seq = j.seq
				select {
				case results <- p:
				case <-done:
					return
				}
			}
		}()
	}
	defer close(jobs)
	// issued files have a sequence number; those from next on are not
	// handled yet: each is parsing, or waits in ready for one before it.
	issued, next := 0, 0
	ready := map[int]parsed{}
	deliver := func() {
		for d.sinkErr == nil {
			p, ok := ready[next]
			if !ok {
				return
			}
			delete(ready, next)
			next++
			handle(ctx, p)
			if d.s.opts.Progress != nil && next%500 == 0 {
				p := Progress{Source: d.own.name, Phase: "discover", Files: next}
				if d.prev != nil {
					p.Total = max(len(d.prev.Files), next) // an estimate: the last sync's count
				}
				d.s.opts.Progress(p)
			}
		}
	}
	for len(d.queue) > 0 || issued > next {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.sinkErr != nil {
			return d.sinkErr
		}
		// Only this goroutine sends on jobs, so room now means the send
		// below cannot block.
		if len(d.queue) > 0 && len(jobs) < cap(jobs) && issued-next < window {
			it := d.queue[0]
			d.queue = d.queue[1:]
			if it.glob != nil {
				if err := d.expand(it); err != nil {
					return err
				}
				continue
			}
			seq := issued
			issued++
			var data []byte
			var err error
			if it.blob.Hash.IsZero() {
				data, err = it.t.snap.readFile(it.path, catalog.MaxFileSize)
			} else {
				data, err = it.t.snap.readBlob(it.blob, catalog.MaxFileSize)
			}
			if err != nil {
				ready[seq] = parsed{seq: seq, it: it, fatal: true, errs: []catalog.ProcessingError{{Path: it.key(), Message: "read: " + readError(err)}}}
				deliver()
				continue
			}
			jobs <- job{seq, it, data}
			continue
		}
		// Whatever is unhandled and not in ready is with a worker: the
		// file at next is, or deliver would have handled it.
		p := <-results
		ready[p.seq] = p
		deliver()
	}
	return d.sinkErr
}

func readError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, errTooLarge):
		return err.Error()
	}
	return err.Error()
}

// parseFile parses one descriptor, resolving placeholders when it has any,
// and completes its entities: origin, uid and etag.
func (d *discovery) parseFile(ctx context.Context, it item, data []byte) parsed {
	p := parsed{it: it}
	if hasPlaceholder(data) {
		r := &resolver{opts: d.s.opts.Placeholders, reads: d.reads, snap: it.t.snap, file: it.path}
		p.ents, p.errs = r.parse(ctx, data)
		p.deps = r.deps
		if len(p.errs) > 0 {
			// Which documents failed, and whether the file itself is
			// broken, from the text before resolution (rare: only files
			// with placeholders and problems pay for a second parse).
			raw := catalog.ParseBytes(data, it.path)
			p.fatal, p.failed = raw.Fatal, failedRefs(raw, p.ents)
		}
	} else {
		res := catalog.ParseBytes(data, it.path)
		p.ents, p.errs, p.fatal, p.failed, p.docs = res.Entities, res.Errors, res.Fatal, res.Failed, res.Documents
	}
	d.rejectAlphaOnly(&p)
	key := it.key()
	for i := range p.errs {
		p.errs[i].Path = key
		p.errs[i].Source = d.own.name
	}
	commit := it.t.snap.commit.Hash.String()
	if p.docs == nil {
		p.docs = make(map[*catalog.Entity][]byte, len(p.ents))
	}
	for _, e := range p.ents {
		e.Origin = catalog.Origin{Source: d.own.name, Path: key, Line: e.Origin.Line, Commit: commit}
		// Stamping (a JSON encoding and a hash per entity) runs on the
		// parse workers in parallel, in ParseFile, rather than in the
		// store's write transaction, and the store writes the document
		// stamped rather than encode the entity again (issue 19): the
		// origin set here is not part of the document. Entities from
		// resolved placeholders are stamped here. An entity stamping
		// fails on is left unstamped for the store, which stamps it again
		// and records the error. Relations are not derived here: the
		// store derives what it writes.
		if _, ok := p.docs[e]; ok && e.Metadata.Etag != "" {
			continue
		}
		doc, err := e.StampDocument()
		if err != nil {
			e.Metadata.Etag, e.Metadata.UID = "", ""
			continue
		}
		p.docs[e] = doc
	}
	// The store's share of writing each entity, made here on the parse
	// workers rather than on the store's one writing goroutine, which a
	// full sync waits for (issue 19).
	if prep, ok := d.s.store.(catalog.SyncPreparer); ok {
		for _, e := range p.ents {
			if doc, ok := p.docs[e]; ok && e.Metadata.Etag != "" {
				if v := prep.Prepare(e, doc); v != nil {
					if p.prepared == nil {
						p.prepared = make(map[*catalog.Entity]any, len(p.ents))
					}
					p.prepared[e] = v
				}
			}
		}
	}
	return p
}

// handle records a parsed file and follows its Location entities.
func (d *discovery) handle(ctx context.Context, p parsed) {
	key := p.it.key()
	fr := &catalog.FileResult{Path: key, Errors: p.errs, Documents: p.docs, Prepared: p.prepared}
	st := fileState{Type: p.it.typ, Explicit: p.it.explicit, Deps: p.deps}
	if p.it.t.foreign {
		st.Source, st.Path = p.it.t.name, p.it.path
	}
	failed := p.failed
	locFailed := false
	for _, e := range p.ents {
		if !strings.EqualFold(e.Kind, catalog.KindLocation) {
			fr.Entities = append(fr.Entities, e)
			continue
		}
		st.Location = true
		children, ok := d.targets(ctx, p.it, e, fr, false)
		if !ok {
			// As in Backstage (checked by the oracle test), a Location with
			// a target it cannot read fails as a whole: it keeps its last
			// good version, or is not shown when new, and none of its
			// targets is followed anew.
			failed = append(failed, e.Ref())
			locFailed = true
			continue
		}
		fr.Entities = append(fr.Entities, e)
		for _, child := range children {
			d.follow(key, &st, child)
		}
	}
	d.settle(ctx, p, fr, failed)
	if len(fr.Errors) > 0 || locFailed {
		// A broken file keeps its last good entities, and so its last good
		// Locations: what they reached stays reachable. So does what a
		// Location reached through a target now missing: a deleted file
		// keeps its last good entities and shows its error (PLATFORM.md).
		st.Location = true
		for _, c := range d.lastGoodChildren(ctx, p.it) {
			d.follow(key, &st, c)
		}
	}
	d.states[key] = st
	d.handled++
	if d.sink == nil {
		d.files = append(d.files, *fr)
	} else if d.sinkErr == nil {
		d.sinkErr = d.sink(ctx, *fr)
	}
}

// lastGoodChildren returns the files that the last good version of the
// broken file at it reached through its Locations: those the previous
// sync's state records or, without one (a store that kept none, a first
// sync after an upgrade), the targets of the file's stored Location
// entities, followed again. An exactly named target is returned even when
// it is gone, so that it keeps its last good entities with a read error,
// as with a state; a glob's deleted matches are not known without one.
func (d *discovery) lastGoodChildren(ctx context.Context, it item) []item {
	key := it.key()
	if d.prev != nil {
		if old, ok := d.prev.Files[key]; ok {
			var out []item
			for _, c := range old.Children {
				if it, ok := d.prevItem(ctx, c); ok {
					out = append(out, it)
				}
			}
			return out
		}
	}
	if d.stored == nil {
		d.stored = map[string][]*catalog.Entity{}
		locs, err := d.s.store.Entities(ctx, catalog.Query{Kind: catalog.KindLocation, NoRelations: true})
		if err != nil {
			// Without them, a full sync could delete what only this file
			// reached: fail the sync rather than lose entities.
			d.sinkErr = fmt.Errorf("read stored locations: %w", err)
			return nil
		}
		for _, l := range locs {
			if l.Origin.Source == d.own.name {
				d.stored[l.Origin.Path] = append(d.stored[l.Origin.Path], l)
			}
		}
	}
	var out []item
	for _, loc := range d.stored[key] {
		var scratch catalog.FileResult // problems were reported when it was good
		children, _ := d.targets(ctx, it, loc, &scratch, true)
		out = append(out, children...)
	}
	return out
}

// prevItem rebuilds the item of a file the previous sync reached.
func (d *discovery) prevItem(ctx context.Context, key string) (item, bool) {
	old, ok := d.prev.Files[key]
	if !ok {
		return item{}, false
	}
	if old.Source == "" {
		return item{t: d.own, path: key, typ: old.Type, explicit: old.Explicit}, true
	}
	t, err := d.foreign(ctx, old.Source)
	if err != nil {
		return item{}, false
	}
	return item{t: t, path: old.Path, typ: old.Type, explicit: old.Explicit}, true
}

// targets resolves a Location's target and targets. Problems are added to
// fr's warnings at the Location's line, and make ok false. A missing
// target of a Location with spec.presence "optional" is no problem. With
// keepMissing, a missing target named exactly is returned all the same.
func (d *discovery) targets(ctx context.Context, from item, loc *catalog.Entity, fr *catalog.FileResult, keepMissing bool) (out []item, ok bool) {
	typ := loc.SpecString("type")
	if typ == "" {
		typ = from.typ
	}
	var list []string
	if t := loc.SpecString("target"); t != "" {
		list = append(list, t)
	}
	list = append(list, loc.SpecStrings("targets")...)
	ok = true
	fail := func(target, msg string) {
		ok = false
		fr.Warnings = append(fr.Warnings, catalog.ProcessingError{Source: d.own.name, Path: fr.Path, Line: loc.Origin.Line,
			Message: fmt.Sprintf("location %s target %q: %s", loc.Metadata.Name, target, msg)})
	}
	optional := loc.SpecString("presence") == "optional"
	missing := func(target, msg string) {
		if !optional {
			fail(target, msg)
		}
	}
	for _, target := range list {
		if strings.Contains(target, "://") {
			t, p, err := d.urlTarget(ctx, target)
			if err != nil {
				fail(target, err.Error())
				continue
			}
			if e, err := t.snap.entry(p); (err != nil || e.Mode == filemode.Dir) && !keepMissing {
				missing(target, "no such file in source "+t.name)
				continue
			}
			out = append(out, item{t: t, path: p, typ: typ, explicit: true})
			continue
		}
		if typ != from.typ {
			fail(target, fmt.Sprintf("relative target not followed: Location type %q differs from its parent's %q", typ, from.typ))
			continue
		}
		p, err := joinInRepo(from.path, target)
		if err != nil {
			fail(target, err.Error())
			continue
		}
		if !from.t.foreign {
			d.patterns[p] = true
		}
		if strings.ContainsAny(p, "*?[{") {
			if !doublestar.ValidatePattern(p) {
				fail(target, "glob: "+doublestar.ErrBadPattern.Error())
				continue
			}
			out = append(out, item{t: from.t, path: p, typ: typ, glob: &globTarget{location: loc.Metadata.Name, target: target}})
			continue
		}
		e, err := from.t.snap.entry(p)
		switch {
		case err != nil && keepMissing:
		case err != nil:
			missing(target, "no such file "+p)
			continue
		case e.Mode == filemode.Symlink:
			fail(target, p+" "+errSymlink.Error())
			continue
		case e.Mode != filemode.Regular && e.Mode != filemode.Executable:
			fail(target, p+" is not a file")
			continue
		}
		out = append(out, item{t: from.t, path: p, typ: typ, explicit: true, blob: e})
	}
	return out, ok
}

// expand walks the glob item it, just taken from the head of the queue,
// and puts its matches there in path order, as its Location would have
// queued them when handled: a match queued meanwhile by a later file moves
// up to its place, one taken from the queue before stays where it was, and
// the matches go into the Location file's children where the glob was
// listed. A glob whose trees cannot be read fails the sync, which then
// changes nothing; before, its Location failed alone, and a full sync
// removed what only the glob reached.
func (d *discovery) expand(it item) error {
	g := it.glob
	var matches []item
	err := doublestar.GlobWalk(it.t.snap.fsys(), it.path, func(m string, de fs.DirEntry) error {
		info, err := de.Info()
		if err != nil {
			return err
		}
		if e, ok := treeEntry(info); ok && (e.Mode == filemode.Regular || e.Mode == filemode.Executable) {
			matches = append(matches, item{t: it.t, path: m, typ: it.typ, blob: e})
		}
		return nil
		// Without WithFailOnIOErrors a tree that cannot be read would be
		// skipped as if empty, and a full sync would remove what it holds.
	}, doublestar.WithFilesOnly(), doublestar.WithNoFollow(), doublestar.WithFailOnIOErrors())
	if err != nil {
		return fmt.Errorf("location %s target %q: glob: %w", g.location, g.target, err)
	}
	// Path order, whatever the walk's.
	sort.Slice(matches, func(i, j int) bool { return matches[i].path < matches[j].path })

	keys := make([]string, len(matches))
	queued := map[string]bool{}
	for i, m := range matches {
		keys[i] = m.key()
		if d.seen[keys[i]] {
			queued[keys[i]] = false // seen: queued later, or taken already
		}
	}
	if len(queued) > 0 {
		rest := d.queue[:0:0]
		for _, q := range d.queue {
			if _, ok := queued[q.key()]; ok && q.glob == nil {
				queued[q.key()] = true
				continue
			}
			rest = append(rest, q)
		}
		d.queue = rest
	}
	front := make([]item, 0, len(matches))
	for i, m := range matches {
		if was, ok := queued[keys[i]]; ok && !was {
			continue
		}
		d.seen[keys[i]] = true
		queued[keys[i]] = false // a pattern matching a file twice queues it once
		front = append(front, m)
	}
	d.queue = append(front, d.queue...)

	st := d.states[g.owner]
	st.Children = slices.Insert(st.Children, g.at+d.globbed[g.owner], keys...)
	d.globbed[g.owner] += len(keys)
	d.states[g.owner] = st
	return nil
}

// urlTarget maps a URL into a configured source: a repository web URL
// such as https://github.com/org/repo/blob/main/path (GitLab's /-/blob/
// too) names path in the source whose Repo is that repository, or whose
// Name is "org/repo".
func (d *discovery) urlTarget(ctx context.Context, target string) (*tree, string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, "", errors.New("not a valid URL")
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	// Find the blob/tree/raw marker: what precedes it is the repository,
	// then comes the ref, then the path.
	for i := 1; i < len(segs); i++ {
		switch segs[i] {
		case "blob", "tree", "raw", "src":
		default:
			continue
		}
		repoSegs := segs[:i]
		if repoSegs[len(repoSegs)-1] == "-" && len(repoSegs) > 1 {
			repoSegs = repoSegs[:len(repoSegs)-1]
		}
		if len(segs) < i+3 {
			return nil, "", errors.New("URL names no file")
		}
		p := strings.Join(segs[i+2:], "/")
		if _, err := joinInRepo("", p); err != nil {
			return nil, "", err
		}
		repoPath := strings.Join(repoSegs, "/")
		name, ok := d.s.sourceFor(u.Host, repoPath)
		if !ok {
			return nil, "", fmt.Errorf("not in a configured source (no source for %s/%s)", u.Host, repoPath)
		}
		if name == d.own.name {
			return d.own, p, nil
		}
		t, err := d.foreign(ctx, name)
		if err != nil {
			return nil, "", err
		}
		return t, p, nil
	}
	return nil, "", errors.New("not in a configured source (want a repository file URL such as https://host/org/repo/blob/main/catalog-info.yaml)")
}

// foreign opens another configured source at its configured branch.
func (d *discovery) foreign(ctx context.Context, name string) (*tree, error) {
	if t, ok := d.others[name]; ok {
		if t == nil {
			return nil, fmt.Errorf("source %s could not be opened", name)
		}
		return t, nil
	}
	d.others[name] = nil
	src, ok := d.s.source(name)
	if !ok {
		return nil, fmt.Errorf("no source %s", name)
	}
	r, c, closeRepo, err := d.s.git.head(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	d.closers = append(d.closers, closeRepo)
	snap, err := newSnapshot(r, c)
	if err != nil {
		return nil, err
	}
	t := &tree{name: name, snap: snap, foreign: true}
	d.others[name] = t
	return t, nil
}

// pathMatch reports whether a slash-separated path matches a doublestar
// glob.
func pathMatch(pattern, p string) (bool, error) { return doublestar.Match(pattern, p) }
