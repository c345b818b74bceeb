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
	// Client fetches URLs; nil means a client that re-checks every redirect
	// against AllowedHosts.
	Client *http.Client
}

const (
	defaultPlaceholderTimeout = 10 * time.Second
	defaultPlaceholderMax     = 5 << 20
	// maxPlaceholdersPerDoc bounds the work one hostile document can ask for.
	maxPlaceholdersPerDoc = 64
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

// resolver resolves the placeholders of one descriptor file.
type resolver struct {
	opts Placeholders
	snap *snapshot
	file string // the descriptor's path in snap
	// deps are the files of the same source that were read, for incremental
	// syncs: a change to one of them re-processes the descriptor.
	deps []string
	// remote is set when a URL was fetched: its content can change without
	// a commit.
	remote bool
}

// parseWithPlaceholders parses a descriptor whose text mentions a
// placeholder marker: each document's placeholders are replaced in the YAML
// node tree, before validation (as Backstage's PlaceholderProcessor runs
// before the entity is validated), and the document is then parsed by
// catalog.ParseFile. Entities keep their original document line; a
// problem found after resolution is reported at its document's line plus its
// offset in the resolved document.
func (r *resolver) parse(ctx context.Context, data []byte) ([]*catalog.Entity, []catalog.ProcessingError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
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
		docs = append(docs, &doc)
	}
	var ents []*catalog.Entity
	var errs []catalog.ProcessingError
	seen := map[string]int{}
	for _, doc := range docs {
		if len(doc.Content) == 0 {
			continue
		}
		start := doc.Content[0].Line
		n := 0
		if perrs := r.walk(ctx, doc, &n); len(perrs) > 0 {
			errs = append(errs, perrs...)
			continue
		}
		out, err := yaml.Marshal(doc)
		if err != nil {
			errs = append(errs, catalog.ProcessingError{Path: r.file, Line: start, Message: "encode resolved document: " + err.Error()})
			continue
		}
		res := catalog.ParseFile(bytes.NewReader(out), r.file)
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

// walk replaces every placeholder under n in place.
func (r *resolver) walk(ctx context.Context, n *yaml.Node, count *int) []catalog.ProcessingError {
	var errs []catalog.ProcessingError
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			errs = append(errs, r.walk(ctx, c, count)...)
		}
	case yaml.MappingNode:
		// A placeholder is a mapping whose only key is $text, $json or
		// $yaml with a string value; other "$" keys are plain data.
		if len(n.Content) == 2 && n.Content[1].Kind == yaml.ScalarNode && n.Content[1].Value != "" {
			switch key := n.Content[0].Value; key {
			case catalog.PlaceholderText, catalog.PlaceholderJSON, catalog.PlaceholderYAML:
				*count++
				if *count > maxPlaceholdersPerDoc {
					return []catalog.ProcessingError{{Path: r.file, Line: n.Line, Message: fmt.Sprintf("more than %d placeholders in one document", maxPlaceholdersPerDoc)}}
				}
				repl, err := r.resolve(ctx, key, n.Content[1].Value)
				if err != nil {
					return []catalog.ProcessingError{{Path: r.file, Line: n.Content[0].Line, Message: fmt.Sprintf("placeholder %s %q: %v", key, n.Content[1].Value, err)}}
				}
				*n = *repl
				return nil
			}
		}
		for i := 1; i < len(n.Content); i += 2 {
			errs = append(errs, r.walk(ctx, n.Content[i], count)...)
		}
	}
	return errs
}

// resolve reads target and returns the node that replaces the placeholder.
func (r *resolver) resolve(ctx context.Context, key, target string) (*yaml.Node, error) {
	data, err := r.read(ctx, target)
	if err != nil {
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
		return r.fetch(ctx, target, max)
	}
	p, err := joinInRepo(r.file, target)
	if err != nil {
		return nil, err
	}
	r.deps = append(r.deps, p)
	data, err := r.snap.readFile(p, max)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no file %s in the repository", p)
	}
	return data, err
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
