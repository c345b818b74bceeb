// Package portal syncs a live Backstage catalog, read through its REST API,
// into a catalog.Store: entities as Backstage serves them, with their uid,
// etag and the relations Backstage's processors computed, so that the bot
// answers what the portal shows. It is the second kind of source beside the
// Git sources of package ingest.
//
// It writes through catalog.Store and never imports catalog/sqlstore, nor
// anything that reads the catalog (commands, bot).
package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
)

// DefaultTokenEnv is the environment variable holding the token when a
// source names none: the one the scaffolder's Backstage client reads.
const DefaultTokenEnv = "PORTALBOT_BACKSTAGE_TOKEN"

// Source is one Backstage backend whose catalog is mirrored.
type Source struct {
	// Name identifies the source in the store; empty means the URL's host
	// and path ("portal.example.com").
	Name string
	// URL is the backend's base URL, without /api/catalog.
	URL string
	// TokenEnv names the variable holding the token sent as
	// "Authorization: Bearer" (a static external-access token); empty
	// means DefaultTokenEnv. An empty token sends no header.
	TokenEnv string
}

// SourceName returns s.Name, or the URL's host and path.
func (s Source) SourceName() string {
	if s.Name != "" {
		return s.Name
	}
	u, err := url.Parse(strings.TrimSpace(s.URL))
	if err != nil || u.Host == "" {
		return strings.TrimSpace(s.URL)
	}
	return u.Host + strings.TrimRight(u.Path, "/")
}

// Options configure a Syncer. Zero fields take the defaults named.
type Options struct {
	// Logger receives one line per sync; nil means nothing is logged.
	Logger *slog.Logger
	// Getenv reads the token's environment variable; nil means os.Getenv.
	Getenv func(string) string
	// HTTPClient sends the requests; nil means a client of its own.
	// Limits.RequestTimeout applies either way.
	HTTPClient *http.Client
	// Limits bound what a sync accepts.
	Limits Limits
	// Sleep waits between attempts of a request; nil means a timer. Tests
	// pass one that does not wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Syncer syncs Backstage sources into a store. It is safe for concurrent
// use; syncs of one source should not overlap (the scheduler and leases see
// to it).
type Syncer struct {
	store  catalog.Store
	opts   Options
	logger *slog.Logger
	hc     *http.Client
}

// etagger is implemented by stores that list the etags a source holds
// (sqlstore). Without it every sync fetches every entity.
type etagger interface {
	Etags(ctx context.Context, source string) (map[string]string, error)
}

// New returns a Syncer writing into store.
func New(store catalog.Store, opts Options) *Syncer {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	opts.Limits = opts.Limits.withDefaults()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	hc := opts.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = opts.Limits.RequestTimeout
		t.MaxIdleConnsPerHost = 4
		hc = &http.Client{Transport: t}
	}
	return &Syncer{store: store, opts: opts, logger: logger.With("component", "catalog/ingest/portal"), hc: hc}
}

// listed is an entity as the etag pass lists it.
type listed struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		UID       string `json:"uid"`
		Etag      string `json:"etag"`
	} `json:"metadata"`
}

// listFields are the fields the etag pass asks for.
const listFields = "kind,metadata.namespace,metadata.name,metadata.uid,metadata.etag"

// Sync brings the store's copy of src's catalog up to date: entities
// Backstage serves are added or updated, those it no longer serves are
// removed. When the store lists its etags, a first pass pages through refs
// and etags only, and only the entities whose etag changed are fetched in
// full (POST by-refs), so a sync where nothing changed costs one light pass.
//
// The error is non-nil when the sync could not run (backend unreachable,
// 401/403, 5xx after retries, a page that is not JSON, a cursor loop, the
// store down); it names the URL and the status, never the token, is
// recorded on the source, and the store keeps its last good state.
func (s *Syncer) Sync(ctx context.Context, src Source) (ingest.Result, error) {
	start := time.Now()
	name := src.SourceName()
	res := ingest.Result{Source: name, Full: true}
	shown := "" // the URL without user info, once parsed
	fail := func(err error) (ingest.Result, error) {
		res.Duration = time.Since(start)
		// The store being down is usually why we are here; the sync's own
		// error is what the caller needs, so a failure to record it is
		// only logged.
		if rerr := s.store.RecordSourceError(ctx, catalog.Source{Name: name, Repo: shown}, err.Error()); rerr != nil {
			s.logger.WarnContext(ctx, "record source error", "source", name, "err", rerr)
		}
		s.logger.ErrorContext(ctx, "sync failed", "source", name, "err", err)
		return res, fmt.Errorf("sync %s: %w", name, err)
	}
	base, redacted, err := parseBase(src.URL)
	if err != nil {
		return fail(err)
	}
	shown = redacted
	tokenEnv := src.TokenEnv
	if tokenEnv == "" {
		tokenEnv = DefaultTokenEnv
	}
	c := &client{base: base, shown: shown, token: s.opts.Getenv(tokenEnv), hc: s.hc, lim: s.opts.Limits, sleep: s.opts.Sleep}

	var stored map[string]string
	if et, ok := s.store.(etagger); ok {
		if stored, err = et.Etags(ctx, name); err != nil {
			return fail(err)
		}
	}
	fetchStart := time.Now()
	var (
		ents    []*catalog.Entity
		fetched int
	)
	if len(stored) == 0 {
		ents, err = s.fetchAll(ctx, c)
		fetched = len(ents)
	} else {
		ents, fetched, err = s.fetchChanged(ctx, c, stored)
	}
	if err != nil {
		if c.token == "" {
			err = fmt.Errorf("%w (no token: %s is empty)", err, tokenEnv)
		}
		return fail(err)
	}
	fetchTook := time.Since(fetchStart)
	files, version := s.files(name, ents)
	res.Files = fetched
	batch := catalog.SyncBatch{Source: catalog.Source{Name: name, Repo: shown, Commit: version}, Full: true, Files: files}
	noop := fetched == 0 && distinct(files) == len(stored)
	if noop {
		// Every entity listed is stored with its etag and none is gone: a
		// partial batch of no files changes nothing but the source's state
		// (status ok, synced now), without walking every stored entity.
		batch.Full, batch.Files = false, nil
	}
	sr, err := s.store.ApplySync(ctx, batch)
	if err != nil {
		return fail(err)
	}
	res.Commit = version
	res.Added, res.Updated, res.Removed, res.Unchanged = sr.Added, sr.Updated, sr.Removed, sr.Unchanged
	if noop {
		res.Unchanged = len(files)
	}
	res.NoOp = len(stored) > 0 && sr.Added+sr.Updated+sr.Removed == 0
	if res.Counts, err = s.store.Counts(ctx); err != nil {
		return res, fmt.Errorf("sync %s: counts: %w", name, err)
	}
	if res.Errors, err = s.store.ProcessingErrors(ctx, name); err != nil {
		return res, fmt.Errorf("sync %s: errors: %w", name, err)
	}
	res.Duration = time.Since(start)
	s.logger.InfoContext(ctx, "sync finished", "source", name, "url", shown, "noop", res.NoOp, "fetched", res.Files,
		"added", res.Added, "updated", res.Updated, "removed", res.Removed, "errors", len(res.Errors),
		"fetch_took_s", fetchTook.Seconds(), "took_s", res.Duration.Seconds())
	return res, nil
}

// fetchAll pages through every entity in full.
func (s *Syncer) fetchAll(ctx context.Context, c *client) ([]*catalog.Entity, error) {
	var out []*catalog.Entity
	err := pages(ctx, c, "", decodeEntities, func(items []*catalog.Entity) error {
		for _, e := range items {
			if e != nil {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// fetchChanged lists refs and etags, then fetches in full the entities
// whose etag differs from stored. An unchanged entity is returned as a
// stub holding its ref, uid and etag only, which the store recognises as
// unchanged by its etag and never writes. It also returns how many
// entities it fetched in full.
func (s *Syncer) fetchChanged(ctx context.Context, c *client, stored map[string]string) ([]*catalog.Entity, int, error) {
	var (
		out     []*catalog.Entity
		changed []string
		at      []int // out index of each changed ref
	)
	decodeListed := func(data []byte) (page[listed], error) {
		var p page[listed]
		err := json.Unmarshal(data, &p)
		return p, err
	}
	err := pages(ctx, c, listFields, decodeListed, func(items []listed) error {
		for _, l := range items {
			e := &catalog.Entity{Kind: l.Kind, Metadata: catalog.Metadata{Name: l.Metadata.Name, Namespace: l.Metadata.Namespace,
				UID: l.Metadata.UID, Etag: l.Metadata.Etag}}
			ref := e.Ref().String()
			if l.Metadata.Etag == "" || stored[ref] != l.Metadata.Etag {
				changed = append(changed, ref)
				at = append(at, len(out))
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	full, err := byRefs(ctx, c, changed)
	if err != nil {
		return nil, 0, err
	}
	for i, e := range full {
		// nil: removed since it was listed, so it is left out and removed.
		out[at[i]] = e
	}
	return out, len(changed), nil
}

// files turns fetched entities into the store's sync input, one file per
// entity named by its page in the portal (catalog/<namespace>/<kind>/<name>),
// and returns a version naming the set of etags.
func (s *Syncer) files(name string, ents []*catalog.Entity) ([]catalog.FileResult, string) {
	files := make([]catalog.FileResult, 0, len(ents))
	lines := make([]string, 0, len(ents))
	for _, e := range ents {
		if e == nil {
			continue
		}
		ns := e.Metadata.Namespace
		if ns == "" {
			ns = catalog.DefaultNamespace
		}
		f := catalog.FileResult{Path: "catalog/" + ns + "/" + strings.ToLower(e.Kind) + "/" + e.Metadata.Name}
		if err := check(e); err != nil {
			f.Errors = []catalog.ProcessingError{{Path: f.Path, Message: err.Error()}}
			files = append(files, f)
			continue
		}
		e.ServedRelations = true
		e.Origin = catalog.Origin{Source: name, Path: f.Path}
		f.Entities = []*catalog.Entity{e}
		files = append(files, f)
		lines = append(lines, e.Ref().String()+" "+e.Metadata.Etag)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return files, "etags:" + hex.EncodeToString(sum[:8])
}

// maxNameLen bounds kind, namespace and name: Backstage allows 63
// characters for names and namespaces; anything far longer is not an
// entity Backstage served.
const maxNameLen = 253

// check rejects what no Backstage catalog serves: an entity without a
// kind, name, uid or etag, or with a name that makes no entity ref.
func check(e *catalog.Entity) error {
	m := e.Metadata
	switch {
	case e.Kind == "" || m.Name == "":
		return fmt.Errorf("entity without kind or metadata.name")
	case m.UID == "" || m.Etag == "":
		return fmt.Errorf("entity %s without metadata.uid or metadata.etag", e.Ref())
	case len(e.Kind) > maxNameLen || len(m.Name) > maxNameLen || len(m.Namespace) > maxNameLen:
		return fmt.Errorf("entity %.80s...: name longer than %d characters", e.Ref(), maxNameLen)
	}
	if _, err := catalog.ParseRef(e.Ref().String(), "", ""); err != nil {
		return err
	}
	return nil
}

// distinct returns the number of distinct paths (one per entity ref) of files.
func distinct(files []catalog.FileResult) int {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Path] = true
	}
	return len(seen)
}
