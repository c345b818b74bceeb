package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/portalbot/portalbot/catalog"
)

// Placeholders bounds $text, $json and $yaml resolution.
type Placeholders struct {
	// AllowedHosts may be fetched for absolute http(s) URLs, compared
	// case-insensitively with the URL's host (and port, when given). Empty
	// means no URL is fetched: only files of the same source are read.
	AllowedHosts []string
	// Timeout bounds one URL fetch; zero means 10 seconds.
	Timeout time.Duration
	// MaxBytes bounds one resolved file or response; zero means 5 MiB.
	MaxBytes int64
	// MaxFileBytes bounds what the placeholders of one descriptor file add
	// to its entities, every reference counted; zero means 10 MiB (what a
	// descriptor file may hold itself, catalog.MaxFileSize).
	MaxFileBytes int64
	// MaxSyncBytes bounds what the placeholders of all the files of one
	// sync of a source add to their entities; zero means 64 MiB. Each
	// MiB costs about 0.15 s of parsing.
	MaxSyncBytes int64
	// Client fetches URLs; nil means a client that re-checks every redirect
	// against AllowedHosts.
	Client *http.Client
}

const (
	defaultPlaceholderTimeout = 10 * time.Second
	defaultPlaceholderMax     = 5 << 20
	defaultPlaceholderFileMax = catalog.MaxFileSize
	defaultPlaceholderSyncMax = 64 << 20
	// maxPlaceholdersPerDoc bounds the work one hostile document can ask for.
	maxPlaceholdersPerDoc = 64
	// maxPlaceholderCache bounds the bytes of targets a sync keeps for
	// the next reference to them; a target read past it is read again
	// when named again (and counted again either way).
	maxPlaceholderCache = 64 << 20
)

// placeholderMarkers are searched for before any YAML is decoded, so the
// files without placeholders (nearly all) pay nothing.
var placeholderMarkers = [][]byte{[]byte(catalog.PlaceholderText), []byte(catalog.PlaceholderJSON), []byte(catalog.PlaceholderYAML)}

func hasPlaceholder(data []byte) bool {
	for _, m := range placeholderMarkers {
		if bytes.Contains(data, m) {
			return true
		}
	}
	return false
}

// placeholderReads is what the placeholders of one sync share: each
// target read once, and the bytes added to entities so far. Parse workers
// use it concurrently.
type placeholderReads struct {
	max int64 // Placeholders.MaxSyncBytes or its default

	mu      sync.Mutex
	used    int64                    // guarded by mu
	cached  int64                    // bytes held by entries, guarded by mu
	entries map[readKey]*placeholder // guarded by mu
}

// readKey names a target: a path in a snapshot, or a URL (snap nil).
type readKey struct {
	snap   *snapshot
	target string
}

// placeholder is a target's content, once done is closed.
type placeholder struct {
	done chan struct{}
	data []byte
	err  error
}

func newPlaceholderReads(opts Placeholders) *placeholderReads {
	max := opts.MaxSyncBytes
	if max <= 0 {
		max = defaultPlaceholderSyncMax
	}
	return &placeholderReads{max: max, entries: map[readKey]*placeholder{}}
}

// read returns the content of the target k names, calling load the first
// time it is asked for (once, however many workers ask at the same time).
func (c *placeholderReads) read(ctx context.Context, k readKey, load func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if p, ok := c.entries[k]; ok {
		c.mu.Unlock()
		select {
		case <-p.done:
			return p.data, p.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p := &placeholder{done: make(chan struct{})}
	c.entries[k] = p
	c.mu.Unlock()
	p.data, p.err = load()
	c.mu.Lock()
	if n := int64(len(p.data)); c.cached+n <= maxPlaceholderCache {
		c.cached += n
	} else {
		delete(c.entries, k) // waiters already hold p
	}
	c.mu.Unlock()
	close(p.done)
	return p.data, p.err
}

// charge counts n more bytes added to entities by the sync's placeholders,
// or returns an error, counting nothing, when they would exceed its budget.
func (c *placeholderReads) charge(n int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used+n > c.max {
		return fmt.Errorf("placeholders of this sync add more than %s to its entities", sizeString(c.max))
	}
	c.used += n
	return nil
}

// sizeString is n bytes for people: "10 MiB", "11.5 MiB", "4096 bytes".
func sizeString(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// resolver resolves the placeholders of one descriptor file.
type resolver struct {
	opts  Placeholders
	reads *placeholderReads // shared by the sync's files
	snap  *snapshot
	file  string // the descriptor's path in snap
	// used is what the file's placeholders have added so far, against
	// opts.MaxFileBytes.
	used int64
	// deps are the files of the same source that were read, for incremental
	// syncs: a change to one of them re-processes the descriptor.
	deps []string
	// remote is set when a URL was fetched: its content can change without
	// a commit.
	remote bool
}

// parse parses a descriptor whose text mentions a placeholder marker:
// each document's placeholders are replaced in the YAML node tree, before
// validation (as Backstage's PlaceholderProcessor runs before the entity
// is validated), and the document is then parsed by catalog.ParseFile.
// The file must first pass the limits every file does, and documents are
// decoded one at a time, so that the marker (even in a comment) buys no
// more time or memory than any file gets. Entities keep their original
// document line; a problem found after resolution is reported at its
// document's line plus its offset in the resolved document.
func (r *resolver) parse(ctx context.Context, data []byte) ([]*catalog.Entity, []catalog.ProcessingError) {
	if _, msg := catalog.CheckLimits(data); msg != "" {
		return catalog.Parse(bytes.NewReader(data), r.file) // which reports it
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var ents []*catalog.Entity
	var errs []catalog.ProcessingError
	seen := map[string]int{}
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Let the model's parser report the syntax error with its line.
			return catalog.Parse(bytes.NewReader(data), r.file)
		}
		if len(doc.Content) == 0 {
			continue
		}
		start := doc.Content[0].Line
		if perr := r.walk(ctx, &doc, &docWalk{}); len(perr) > 0 {
			errs = append(errs, perr...)
			continue
		}
		out, err := yaml.Marshal(&doc)
		if err != nil {
			errs = append(errs, catalog.ProcessingError{Path: r.file, Line: start, Message: "encode resolved document: " + err.Error()})
			continue
		}
		res := catalog.ParseBytes(out, r.file)
		for _, pe := range res.Errors {
			if pe.Line > 0 {
				pe.Line += start - 1
			} else {
				pe.Line = start
			}
			errs = append(errs, pe)
		}
		for _, e := range res.Entities {
			e.Origin.Line = start
			key := e.Ref().String()
			if prev, dup := seen[key]; dup {
				errs = append(errs, catalog.ProcessingError{Path: r.file, Line: start, Message: fmt.Sprintf("%s is already defined at line %d", key, prev)})
				continue
			}
			seen[key] = start
			ents = append(ents, e)
		}
	}
	return ents, errs
}

// docWalk is the state of one document's walk.
type docWalk struct {
	count int // placeholders met
	// stopped is set when a limit was reached: the document's other
	// placeholders are not resolved (nor reported one by one).
	stopped bool
}

// walk replaces every placeholder under n in place.
func (r *resolver) walk(ctx context.Context, n *yaml.Node, w *docWalk) []catalog.ProcessingError {
	if w.stopped {
		return nil
	}
	var errs []catalog.ProcessingError
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			errs = append(errs, r.walk(ctx, c, w)...)
		}
	case yaml.MappingNode:
		// A placeholder is a mapping whose only key is $text, $json or
		// $yaml with a string value; other "$" keys are plain data.
		if len(n.Content) == 2 && n.Content[1].Kind == yaml.ScalarNode && n.Content[1].Value != "" {
			switch key := n.Content[0].Value; key {
			case catalog.PlaceholderText, catalog.PlaceholderJSON, catalog.PlaceholderYAML:
				w.count++
				if w.count > maxPlaceholdersPerDoc {
					w.stopped = true
					return []catalog.ProcessingError{{Path: r.file, Line: n.Line, Message: fmt.Sprintf("more than %d placeholders in one document", maxPlaceholdersPerDoc)}}
				}
				repl, err := r.resolve(ctx, key, n.Content[1].Value)
				if err != nil {
					var be *budgetError
					w.stopped = errors.As(err, &be)
					return []catalog.ProcessingError{{Path: r.file, Line: n.Content[0].Line, Message: fmt.Sprintf("placeholder %s %q: %v", key, n.Content[1].Value, err)}}
				}
				*n = *repl
				return nil
			}
		}
		for i := 1; i < len(n.Content); i += 2 {
			errs = append(errs, r.walk(ctx, n.Content[i], w)...)
		}
	}
	return errs
}

// budgetError says a placeholder would take its file or its sync past
// the bytes they may add to entities.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

// charge counts the n bytes a placeholder adds to the file's entities
// against the file's budget and the sync's, or returns a *budgetError,
// counting nothing, when either would be exceeded.
func (r *resolver) charge(n int64) error {
	max := r.opts.MaxFileBytes
	if max <= 0 {
		max = defaultPlaceholderFileMax
	}
	if r.used+n > max {
		return &budgetError{fmt.Sprintf("placeholders of this file add more than %s to its entities", sizeString(max))}
	}
	if err := r.reads.charge(n); err != nil {
		return &budgetError{err.Error()}
	}
	r.used += n
	return nil
}

// resolve reads target and returns the node that replaces the placeholder.
func (r *resolver) resolve(ctx context.Context, key, target string) (*yaml.Node, error) {
	data, err := r.read(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := r.charge(int64(len(data))); err != nil {
		return nil, err
	}
	switch key {
	case catalog.PlaceholderText:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(data)}, nil
	case catalog.PlaceholderJSON:
		if !json.Valid(data) {
			return nil, errors.New("content is not valid JSON")
		}
	}
	// The same bounds as a descriptor's before the content is decoded.
	if line, msg := catalog.CheckLimits(data); msg != "" {
		return nil, fmt.Errorf("content line %d: %s", line, msg)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("content does not parse: %v", err)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return doc.Content[0], nil
}

// read returns the content a placeholder names: a file of the same source
// relative to the descriptor's directory ("/x" is relative to the
// repository root), or an allowed URL.
func (r *resolver) read(ctx context.Context, target string) ([]byte, error) {
	max := r.opts.MaxBytes
	if max <= 0 {
		max = defaultPlaceholderMax
	}
	if strings.Contains(target, "://") {
		r.remote = true // even when another file fetched it first
		return r.reads.read(ctx, readKey{target: target}, func() ([]byte, error) { return r.fetch(ctx, target, max) })
	}
	p, err := joinInRepo(r.file, target)
	if err != nil {
		return nil, err
	}
	r.deps = append(r.deps, p)
	return r.reads.read(ctx, readKey{snap: r.snap, target: p}, func() ([]byte, error) {
		data, err := r.snap.readFile(p, max)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no file %s in the repository", p)
		}
		return data, err
	})
}

// joinInRepo resolves target against the directory of file, both relative
// to the repository root, and refuses results outside the repository.
func joinInRepo(file, target string) (string, error) {
	if strings.ContainsRune(target, 0) || strings.Contains(target, "\\") {
		return "", errors.New("path contains a NUL or backslash")
	}
	var p string
	if strings.HasPrefix(target, "/") {
		p = path.Clean(strings.TrimLeft(target, "/"))
	} else {
		p = path.Join(path.Dir(file), target)
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errors.New("path leads outside the repository")
	}
	if p == "." || p == "" {
		return "", errors.New("path names the repository root, not a file")
	}
	return p, nil
}

func (r *resolver) allowed(u *url.URL) bool {
	for _, h := range r.opts.AllowedHosts {
		if strings.EqualFold(h, u.Host) || (!strings.Contains(h, ":") && strings.EqualFold(h, u.Hostname())) {
			return true
		}
	}
	return false
}

// fetch GETs an absolute URL from an allowed host, with a timeout and a
// size limit; redirects must stay on allowed hosts too.
func (r *resolver) fetch(ctx context.Context, target string, max int64) ([]byte, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %v", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("scheme %q is not fetched (http and https only)", u.Scheme)
	}
	if !r.allowed(u) {
		return nil, fmt.Errorf("host %q is not allowed (add it to placeholders.allowed_hosts to fetch it)", u.Host)
	}
	r.remote = true
	timeout := r.opts.Timeout
	if timeout <= 0 {
		timeout = defaultPlaceholderTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := r.opts.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if !r.allowed(req.URL) {
				return fmt.Errorf("redirect to host %q is not allowed", req.URL.Host)
			}
			return nil
		}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("fetch: HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("fetch: response is larger than %d bytes", max)
	}
	return data, nil
}
