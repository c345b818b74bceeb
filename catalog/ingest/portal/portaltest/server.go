// Package portaltest serves a Backstage catalog API for tests: the
// by-query and by-refs endpoints over a list of entities in the JSON
// Backstage serves, with static-token auth and the error bodies Backstage
// answers. testdata holds responses recorded from a real Backstage backend
// (@backstage/plugin-catalog-backend 4.0), which Recorded returns.
//
// It imports nothing else of portalbot; only tests import it.
package portaltest

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

//go:embed testdata/*.json
var recorded embed.FS

// ReadFile returns one recorded response from testdata.
func ReadFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := recorded.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatalf("portaltest: %v", err)
	}
	return b
}

// Recorded returns the entities of testdata/entities.json, a by-query
// answer recorded from a real Backstage backend: Groups, Users, a System,
// Components (one orphaned), an API with its definition, a Resource, a
// Template and two Locations, with Backstage's relations.
func Recorded(tb testing.TB) []map[string]any {
	tb.Helper()
	var p struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(ReadFile(tb, "entities.json"), &p); err != nil {
		tb.Fatalf("portaltest: entities.json: %v", err)
	}
	return p.Items
}

// Server is a fake Backstage backend. Its methods are safe for concurrent
// use with the requests it serves.
type Server struct {
	*httptest.Server
	token string

	mu       sync.Mutex
	entities []map[string]any             // in serving order; guarded by mu
	encoded  map[string][]json.RawMessage // fields -> entities projected and encoded once; guarded by mu
	fail     map[string][]int             // path -> statuses to answer next; guarded by mu
	handle   map[string]http.Handler      // path -> replacement handler; guarded by mu
	requests map[string]int               // path -> count; guarded by mu
}

// NewServer starts a fake backend serving entities to requests bearing
// token (none needed when token is ""), closed in tb.Cleanup.
func NewServer(tb testing.TB, token string, entities []map[string]any) *Server {
	tb.Helper()
	s := &Server{token: token, entities: entities, fail: map[string][]int{}, handle: map[string]http.Handler{}, requests: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// SetEntities replaces the entities served.
func (s *Server) SetEntities(entities []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entities, s.encoded = entities, nil
}

// encodedEntities returns the entities projected to fields and encoded,
// encoding them on first use, so that a benchmark measures the client
// rather than this server.
func (s *Server) encodedEntities(fields string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.encoded == nil {
		s.encoded = map[string][]json.RawMessage{}
	}
	enc, ok := s.encoded[fields]
	if !ok {
		enc = make([]json.RawMessage, len(s.entities))
		for i, e := range s.entities {
			b, err := json.Marshal(project(e, fields))
			if err != nil {
				panic(fmt.Sprintf("portaltest: entity %d: %v", i, err)) // the caller's entities came from JSON
			}
			enc[i] = b
		}
		s.encoded[fields] = enc
	}
	return enc
}

// FailNext makes the next requests to path (e.g.
// "/api/catalog/entities/by-query") answer the given statuses, one each,
// with a Backstage error body.
func (s *Server) FailNext(path string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[path] = append(s.fail[path], statuses...)
}

// Handle replaces the handler of path, for answers a real backend does not
// give (a proxy's HTML page, a cursor loop).
func (s *Server) Handle(path string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handle[path] = h
}

// Requests returns how many requests path received.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Ref returns the canonical ref of a served entity.
func Ref(e map[string]any) string {
	md, _ := e["metadata"].(map[string]any)
	kind, _ := e["kind"].(string)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(kind + ":" + ns + "/" + name)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	var status int
	if f := s.fail[r.URL.Path]; len(f) > 0 {
		status, s.fail[r.URL.Path] = f[0], f[1:]
	}
	h := s.handle[r.URL.Path]
	ents := s.entities
	s.mu.Unlock()
	switch {
	case s.token != "" && r.Header.Get("Authorization") == "":
		writeError(w, r, http.StatusUnauthorized, "AuthenticationError", "Missing credentials")
	case s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token:
		writeError(w, r, http.StatusUnauthorized, "AuthenticationError", "Illegal token")
	case status != 0:
		writeError(w, r, status, "Error", http.StatusText(status))
	case h != nil:
		h.ServeHTTP(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/catalog/entities/by-query":
		s.byQuery(w, r, ents)
	case r.Method == http.MethodPost && r.URL.Path == "/api/catalog/entities/by-refs":
		s.byRefs(w, r, ents)
	default:
		writeError(w, r, http.StatusNotFound, "NotFoundError", "not found")
	}
}

// writeError answers as Backstage's error handler does.
func writeError(w http.ResponseWriter, r *http.Request, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	url := strings.TrimPrefix(r.URL.RequestURI(), "/api/catalog")
	_ = json.NewEncoder(w).Encode(map[string]any{ // the client may be gone
		"error":    map[string]any{"name": name, "message": msg},
		"request":  map[string]any{"method": r.Method, "url": url},
		"response": map[string]any{"statusCode": status},
	})
}

// byQuery pages with an opaque cursor holding the offset, the limit and
// the fields of the first request; like Backstage, it ignores the query's
// other parameters once a cursor is passed, but takes fields and limit
// from every request.
func (s *Server) byQuery(w http.ResponseWriter, r *http.Request, ents []map[string]any) {
	q := r.URL.Query()
	limit := len(ents)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, "InputError", "invalid limit")
			return
		}
		limit = n
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		if err == nil {
			_, err = fmt.Sscanf(string(b), "offset:%d", &offset)
		}
		if err != nil || offset < 0 || offset > len(ents) {
			writeError(w, r, http.StatusBadRequest, "InputError", "Malformed cursor")
			return
		}
	}
	end := min(offset+limit, len(ents))
	info := map[string]any{}
	if end < len(ents) {
		info["nextCursor"] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("offset:%d", end)))
	}
	tail, err := json.Marshal(map[string]any{"totalItems": len(ents), "pageInfo": info})
	if err != nil {
		panic(err) // a map of a number and strings
	}
	enc := s.encodedEntities(q.Get("fields"))
	if len(enc) != len(ents) { // changed by SetEntities since this request began
		writeError(w, r, http.StatusServiceUnavailable, "ServiceUnavailableError", "catalog changed")
		return
	}
	// The items are written as encoded once: json.Encoder would re-check
	// and compact each, and this server is not what benchmarks measure.
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i, e := range enc[offset:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteString("],")
	b.Write(tail[1:])
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b.Bytes()) // the client may be gone
}

func (s *Server) byRefs(w http.ResponseWriter, r *http.Request, ents []map[string]any) {
	var body struct {
		EntityRefs []string `json:"entityRefs"`
		Fields     []string `json:"fields"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 100<<10)).Decode(&body); err != nil {
		writeError(w, r, http.StatusRequestEntityTooLarge, "PayloadTooLargeError", "request entity too large")
		return
	}
	byRef := make(map[string]map[string]any, len(ents))
	for _, e := range ents {
		byRef[Ref(e)] = e
	}
	items := make([]any, len(body.EntityRefs))
	for i, ref := range body.EntityRefs {
		if e, ok := byRef[strings.ToLower(ref)]; ok {
			items[i] = project(e, strings.Join(body.Fields, ","))
		}
	}
	writeJSON(w, map[string]any{"items": items})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v) // the client may be gone
}

// project keeps the dotted paths listed in fields (comma-separated), as
// Backstage's fields parameter does; "" keeps everything.
func project(e map[string]any, fields string) map[string]any {
	if fields == "" {
		return e
	}
	out := map[string]any{}
	for _, f := range strings.Split(fields, ",") {
		parts := strings.Split(strings.TrimSpace(f), ".")
		src, dst := e, out
		for i, p := range parts {
			v, ok := src[p]
			if !ok {
				break
			}
			if i == len(parts)-1 {
				dst[p] = v
				break
			}
			next, ok := v.(map[string]any)
			if !ok {
				break
			}
			d, _ := dst[p].(map[string]any)
			if d == nil {
				d = map[string]any{}
				dst[p] = d
			}
			src, dst = next, d
		}
	}
	return out
}
