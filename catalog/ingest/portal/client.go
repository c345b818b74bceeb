package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

// Limits bound what one sync accepts from a Backstage API: the portal is
// trusted, but a wrong URL, a broken proxy or a hostile server is not.
// Zero fields take the defaults named.
type Limits struct {
	// PageSize is the number of entities asked for per page; 0 means 500.
	PageSize int
	// MaxResponseBytes caps one response body; 0 means 64 MiB.
	MaxResponseBytes int64
	// RequestTimeout bounds one request, body included; 0 means 60 s.
	RequestTimeout time.Duration
	// MaxEntities caps the entities of one source; 0 means 1,000,000.
	MaxEntities int
	// Attempts is how many times a request that failed for a reason that
	// may pass (no connection, timeout, 429, 5xx) is tried; 0 means 3.
	Attempts int
	// RetryDelay is the wait before the second attempt, doubled for each
	// further one (at most 30 s); 0 means 1 s.
	RetryDelay time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.PageSize <= 0 {
		l.PageSize = 500
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = 64 << 20
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = time.Minute
	}
	if l.MaxEntities <= 0 {
		l.MaxEntities = 1_000_000
	}
	if l.Attempts <= 0 {
		l.Attempts = 3
	}
	if l.RetryDelay <= 0 {
		l.RetryDelay = time.Second
	}
	return l
}

// byRefsChunk is how many refs one POST by-refs names: Backstage's JSON
// body parser takes 100 kB by default, about 1,000 refs.
const byRefsChunk = 200

// StatusError is an answer from a Backstage API with a status other than
// 200. Its text names the URL and the status, never the token.
type StatusError struct {
	Method, URL string
	Status      int
	// Message is Backstage's error name and message, when the body
	// carried one.
	Message string
}

// Error formats the error as "GET URL: 401 Unauthorized: Name: message".
func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// transient reports whether a later attempt may succeed.
func (e *StatusError) transient() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// client reads one Backstage catalog API.
type client struct {
	base  string // scheme://host[/path] without a trailing slash
	shown string // base without user info, for errors and the store
	token string // "" sends no Authorization header
	hc    *http.Client
	lim   Limits
	// sleep waits between attempts; it returns early with ctx's error.
	sleep func(ctx context.Context, d time.Duration) error
}

// parseBase checks a configured base URL and returns it without a trailing
// slash, and its form without user info for messages.
func parseBase(raw string) (base, shown string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("backstage URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("backstage URL %q: want http(s)://host[/path], the backend's base URL", redact(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("backstage URL %q: want no query or fragment", redact(u))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), redact(u), nil
}

func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.Fragment = "", ""
	return strings.TrimRight(c.String(), "/")
}

// page is one answer of GET /api/catalog/entities/by-query.
type page[T any] struct {
	Items    []T `json:"items"`
	PageInfo struct {
		NextCursor string `json:"nextCursor"`
	} `json:"pageInfo"`
}

// pages calls each with the items of every page of by-query, following
// pageInfo.nextCursor. Backstage ignores filters once a cursor is passed
// but takes fields and limit on every request. A repeated cursor, or a
// page with no items that names a next one, is a loop and an error.
//
// While a page is decoded the next one is already being fetched, with the
// cursor read from the end of the page's text (Backstage writes pageInfo
// last); the decoded pageInfo must agree, or the guess is dropped and the
// page fetched again with the decoded cursor. The fetch, on a real
// backend mostly waiting on the server, thus overlaps the decoding.
func pages[T any](ctx context.Context, c *client, fields string, decode func([]byte) (page[T], error), each func([]T) error) error {
	const path = "/api/catalog/entities/by-query"
	// Ends a fetch under way when pages returns early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		data []byte
		err  error
	}
	fetch := func(cursor string) <-chan fetched {
		q := url.Values{"limit": {strconv.Itoa(c.lim.PageSize)}}
		if fields != "" {
			q.Set("fields", fields)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		ch := make(chan fetched, 1)
		go func() {
			data, err := c.do(ctx, http.MethodGet, path, q, nil)
			ch <- fetched{data, err}
		}()
		return ch
	}
	seen := map[string]bool{}
	total := 0
	cur := fetch("")
	for {
		f := <-cur
		if f.err != nil {
			return f.err
		}
		guess := tailCursor(f.data)
		var next <-chan fetched
		if guess != "" && !seen[guess] {
			next = fetch(guess)
		}
		p, err := decode(f.data)
		if err != nil {
			return decodeError(http.MethodGet, c.shown+path, err)
		}
		total += len(p.Items)
		if total > c.lim.MaxEntities {
			return fmt.Errorf("GET %s%s: more than %d entities (limit)", c.shown, path, c.lim.MaxEntities)
		}
		if err := each(p.Items); err != nil {
			return err
		}
		nc := p.PageInfo.NextCursor
		if nc == "" {
			return nil
		}
		if seen[nc] || len(p.Items) == 0 {
			return fmt.Errorf("GET %s%s: cursor loop: page %d names a cursor already followed or is empty", c.shown, path, len(seen)+1)
		}
		seen[nc] = true
		if next == nil || guess != nc {
			// A wrong guess's fetch ends on its own (RequestTimeout) or at
			// cancel; its buffered channel is never read.
			next = fetch(nc)
		}
		cur = next
	}
}

// tailCursor returns the value of the last "nextCursor" key in a page's
// text, or "" when there is none or it holds escapes. It is a guess,
// checked against the decoded page.
func tailCursor(data []byte) string {
	i := bytes.LastIndex(data, []byte(`"nextCursor"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(data[i+len(`"nextCursor"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	j := bytes.IndexByte(rest[1:], '"')
	if j < 0 || bytes.IndexByte(rest[1:1+j], '\\') >= 0 {
		return ""
	}
	return string(rest[1 : 1+j])
}

// byRefs fetches the entities named by refs with POST by-refs, in chunks.
// items[i] answers refs[i] and is nil for a ref Backstage does not have
// (any more).
func byRefs(ctx context.Context, c *client, refs []string) ([]*catalog.Entity, error) {
	const path = "/api/catalog/entities/by-refs"
	out := make([]*catalog.Entity, 0, len(refs))
	for len(refs) > 0 {
		chunk := refs[:min(byRefsChunk, len(refs))]
		refs = refs[len(chunk):]
		body, err := json.Marshal(map[string][]string{"entityRefs": chunk})
		if err != nil {
			return nil, err
		}
		data, err := c.do(ctx, http.MethodPost, path, nil, body)
		if err != nil {
			return nil, err
		}
		p, err := decodeEntities(data)
		if err != nil {
			return nil, decodeError(http.MethodPost, c.shown+path, err)
		}
		if len(p.Items) != len(chunk) {
			return nil, fmt.Errorf("POST %s%s: %d items for %d refs", c.shown, path, len(p.Items), len(chunk))
		}
		out = append(out, p.Items...)
	}
	return out, nil
}

// do sends one request, retrying failures that may pass with a doubling
// delay, and returns the body of a 200 answer of type application/json.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	delay := c.lim.RetryDelay
	var (
		data []byte
		err  error
	)
	for attempt := 1; ; attempt++ {
		data, err = c.once(ctx, method, path, q, body)
		if err == nil || attempt >= c.lim.Attempts || !retryable(err) || ctx.Err() != nil {
			break
		}
		if serr := c.sleep(ctx, delay); serr != nil {
			break
		}
		delay = min(2*delay, 30*time.Second)
	}
	return data, err
}

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.transient()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

func (c *client) once(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	shown := c.shown + path
	ctx, cancel := context.WithTimeout(ctx, c.lim.RequestTimeout)
	defer cancel()
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, shown, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, cursor included; say it once.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, shown, err)
	}
	defer resp.Body.Close()
	// Sized from Content-Length when the server sends one (within the
	// limit), rather than grown by doubling: pages run to megabytes.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(resp.ContentLength, 512), c.lim.MaxResponseBytes)+1))
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, c.lim.MaxResponseBytes+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %d %s: read body: %w", method, shown, resp.StatusCode, http.StatusText(resp.StatusCode), err)
	}
	if int64(len(data)) > c.lim.MaxResponseBytes {
		return nil, fmt.Errorf("%s %s: %d %s: response larger than %d bytes (limit)", method, shown, resp.StatusCode,
			http.StatusText(resp.StatusCode), c.lim.MaxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Method: method, URL: shown, Status: resp.StatusCode, Message: backstageMessage(data)}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("%s %s: 200 OK: response is not JSON (Content-Type %q)", method, shown, resp.Header.Get("Content-Type"))
	}
	return data, nil
}

// backstageMessage returns "name: message" from Backstage's error body
// ({"error": {"name", "message"}}), cut short, or "" for any other body.
func backstageMessage(data []byte) string {
	var b struct {
		Error struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &b) != nil || b.Error.Message == "" {
		return ""
	}
	msg := b.Error.Message
	if b.Error.Name != "" {
		msg = b.Error.Name + ": " + msg
	}
	const maxMessage = 300
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "..."
	}
	return msg
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
