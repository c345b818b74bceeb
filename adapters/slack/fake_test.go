package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
	slackgo "github.com/slack-go/slack"
)

// call is one request the fake Slack server received.
type call struct {
	Method string     // Web API method ("chat.postMessage") or "hook"
	Form   url.Values // form-encoded parameters
	JSON   map[string]any
	At     time.Time
}

// fakeSlack speaks the Web API's JSON for the methods the adapter calls,
// plus response_url hooks under /hooks/. slacktest answers 404 for
// views.open (PLATFORM.md), hence this fake.
type fakeSlack struct {
	srv *httptest.Server

	mu        sync.Mutex
	calls     []call
	ts        int
	rateLimit int // answer the next rateLimit chat.postMessage calls with 429
	hookDelay time.Duration
	signal    chan call
}

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{signal: make(chan call, 100)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	c := call{At: time.Now()}
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		// The upload URL files.getUploadURLExternal handed out: a
		// multipart form with the file in the "file" part.
		c.Method = "upload"
		c.Form = url.Values{"file_id": {strings.TrimPrefix(r.URL.Path, "/upload/")}}
		fh, hdr, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		data, _ := io.ReadAll(fh)
		c.Form.Set("filename", hdr.Filename)
		c.Form.Set("data", string(data))
		f.mu.Lock()
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
		return
	}
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.URL.Path, "/hooks/") {
		c.Method = "hook"
	} else {
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
		c.Method = strings.TrimPrefix(c.Method, "/")
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && len(body) > 0 {
		if err := json.Unmarshal(body, &c.JSON); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	f.mu.Lock()
	if c.Method == "chat.postMessage" && f.rateLimit > 0 {
		f.rateLimit--
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	f.calls = append(f.calls, c)
	f.ts++
	ts := fmt.Sprintf("1700000000.%06d", f.ts)
	delay := f.hookDelay
	f.mu.Unlock()
	select {
	case f.signal <- c:
	default: // nobody is waiting for this many calls
	}
	w.Header().Set("Content-Type", "application/json")
	switch c.Method {
	case "hook":
		time.Sleep(delay)
		io.WriteString(w, "ok")
	case "chat.postMessage":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, c.Form.Get("channel"), ts)
	case "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":""}`, c.Form.Get("channel"), c.Form.Get("ts"))
	case "chat.postEphemeral":
		fmt.Fprintf(w, `{"ok":true,"message_ts":%q}`, ts)
	case "views.open":
		io.WriteString(w, `{"ok":true,"view":{"id":"V123","type":"modal"}}`)
	case "apps.connections.open":
		// A Socket Mode URL where nothing listens: every connection is refused.
		io.WriteString(w, `{"ok":true,"url":"ws://127.0.0.1:1/link/?ticket=s3cr3t-ticket"}`)
	case "chat.unfurl":
		io.WriteString(w, `{"ok":true}`)
	case "views.publish":
		io.WriteString(w, `{"ok":true,"view":{"id":"VHOME","type":"home"}}`)
	case "users.info":
		u := c.Form.Get("user")
		fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"name":"someone","profile":{"email":%q}}}`, u, strings.ToLower(u)+"@example.com")
	case "files.getUploadURLExternal":
		// https://api.slack.com/methods/files.getUploadURLExternal
		if c.Form.Get("filename") == "" || c.Form.Get("length") == "" || c.Form.Get("length") == "0" {
			io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
			return
		}
		id := fmt.Sprintf("F%06d", f.ts)
		fmt.Fprintf(w, `{"ok":true,"upload_url":%q,"file_id":%q}`, f.srv.URL+"/upload/"+id, id)
	case "files.completeUploadExternal":
		// https://api.slack.com/methods/files.completeUploadExternal
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal([]byte(c.Form.Get("files")), &files); err != nil || len(files) == 0 {
			io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"files":[{"id":%q,"title":%q}]}`, files[0].ID, files[0].Title)
	case "auth.test":
		io.WriteString(w, `{"ok":true,"user_id":"UBOT","bot_id":"BBOT"}`)
	default:
		io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

// wait returns the next call of method, failing after 5 s.
func (f *fakeSlack) wait(t *testing.T, method string) call {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case c := <-f.signal:
			if c.Method == method {
				return c
			}
		case <-timeout:
			t.Fatalf("no %s call within 5s; calls: %v", method, f.methods())
			return call{}
		}
	}
}

func (f *fakeSlack) methods() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.Method)
	}
	return out
}

func (f *fakeSlack) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

func (f *fakeSlack) hookURL(id string) string { return f.srv.URL + "/hooks/" + id }

func (f *fakeSlack) client() *slackgo.Client {
	return slackgo.New("xoxb-test-token", slackgo.OptionAPIURL(f.srv.URL+"/api/"))
}

const testSecret = "test-signing-secret"

// testEnv is an adapter wired to a fake Slack and a router.
type testEnv struct {
	t       *testing.T
	slack   *fakeSlack
	router  *commands.Router
	adapter *Adapter
	srv     *httptest.Server
	signer  *Verifier
}

func newTestEnv(t *testing.T, dedupe Deduper) *testEnv {
	t.Helper()
	fs := newFakeSlack(t)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	router := commands.NewRouter(logger)
	a, err := New(Params{
		Engine:              router,
		API:                 fs.client(),
		SigningSecret:       testSecret,
		BotUserID:           "UBOT",
		Dedupe:              dedupe,
		ResponseURLPrefixes: []string{fs.srv.URL + "/hooks/"},
		Logger:              logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); a.Wait() })
	return &testEnv{t: t, slack: fs, router: router, adapter: a, srv: srv, signer: NewVerifier(testSecret, nil)}
}

// post sends body to path signed at ts (now when zero) and returns the
// status and body.
func (e *testEnv) post(path, contentType, body string, ts time.Time, header map[string]string) (int, string) {
	e.t.Helper()
	if ts.IsZero() {
		ts = time.Now()
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	stamp, sig := e.signer.Sign(ts, []byte(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("X-Slack-Signature", sig)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// slashBody is a slash command form as Slack sends it.
func (e *testEnv) slashBody(text, hook string) string {
	return url.Values{
		"token":        {"ignored"},
		"team_id":      {"T1"},
		"team_domain":  {"acme"},
		"channel_id":   {"C1"},
		"channel_name": {"general"},
		"user_id":      {"U1"},
		"user_name":    {"roadrunner"},
		"command":      {"/portal"},
		"text":         {text},
		"response_url": {e.slack.hookURL(hook)},
		"trigger_id":   {"398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"},
		"api_app_id":   {"A1"},
	}.Encode()
}

// interactionBody wraps a JSON payload as Slack posts interactions.
func interactionBody(payload string) string {
	return url.Values{"payload": {payload}}.Encode()
}
