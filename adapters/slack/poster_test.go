package slack

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
)

func TestPosterSplitsLongReplies(t *testing.T) {
	fs := newFakeSlack(t)
	p := NewPoster(fs.client(), nil)
	p.interval = time.Millisecond
	r := commands.Reply{Title: "Drift report"}
	for i := 0; i < 60; i++ {
		r.Sections = append(r.Sections, commands.Section{Title: "team-" + string(rune('a'+i%26)), Text: "finding " + strings.Repeat("x", i)})
	}
	ts, err := p.Post(context.Background(), "C9", "", r)
	if err != nil {
		t.Fatalf("Post() = %v", err)
	}
	if ts != "1700000000.000001" {
		t.Errorf("Post() = %q, want the first message's ts", ts)
	}
	var posts []call
	for _, c := range fs.calls {
		if c.Method == "chat.postMessage" {
			posts = append(posts, c)
		}
	}
	// 1 header + 60 × (divider + section) = 121 blocks: three messages.
	if len(posts) != 3 {
		t.Fatalf("Post() sent %d messages, want 3", len(posts))
	}
	if posts[0].Form.Get("thread_ts") != "" {
		t.Errorf("first part has thread_ts %q, want none", posts[0].Form.Get("thread_ts"))
	}
	all := ""
	for i, c := range posts {
		if i > 0 && c.Form.Get("thread_ts") != ts {
			t.Errorf("part %d thread_ts = %q, want %q", i+1, c.Form.Get("thread_ts"), ts)
		}
		all += c.Form.Get("blocks")
	}
	for i := 0; i < 60; i++ {
		if !strings.Contains(all, "finding "+strings.Repeat("x", i)+`"`) {
			t.Errorf("finding %d is missing from the posted parts", i)
		}
	}
}

func TestPosterPacesPerChannelAndRetries429(t *testing.T) {
	fs := newFakeSlack(t)
	fs.rateLimit = 1 // the first chat.postMessage gets 429 Retry-After: 1
	p := NewPoster(fs.client(), nil)
	p.interval = 100 * time.Millisecond
	ctx := context.Background()
	var wg sync.WaitGroup
	start := time.Now()
	errs := make(chan error, 6)
	for i := 0; i < 3; i++ {
		for _, ch := range []string{"CA", "CB"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.Post(ctx, ch, "", commands.Reply{Text: "hello " + ch})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Post() = %v", err)
		}
	}
	byChannel := map[string][]time.Time{}
	for _, c := range fs.calls {
		if c.Method == "chat.postMessage" {
			byChannel[c.Form.Get("channel")] = append(byChannel[c.Form.Get("channel")], c.At)
		}
	}
	for ch, times := range byChannel {
		if len(times) != 3 {
			t.Errorf("channel %s got %d messages, want 3", ch, len(times))
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < 90*time.Millisecond {
				t.Errorf("channel %s: messages %d and %d only %v apart, want >= 100ms", ch, i, i+1, gap)
			}
		}
	}
	// The 429 made one channel wait a full second; the other was not held up by it.
	if took := time.Since(start); took < time.Second {
		t.Errorf("posting took %v, want >= 1s (Retry-After honoured)", took)
	}
	if first := earliest(byChannel["CA"][0], byChannel["CB"][0]); first.Sub(start) > 500*time.Millisecond {
		t.Errorf("the channel without a 429 waited %v", first.Sub(start))
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func TestPosterStopsWithContext(t *testing.T) {
	fs := newFakeSlack(t)
	p := NewPoster(fs.client(), nil)
	p.interval = time.Hour
	if _, err := p.Post(context.Background(), "C1", "", commands.Reply{Text: "one"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Post(ctx, "C1", "", commands.Reply{Text: "two"}); err == nil {
		t.Errorf("Post() while paced for an hour = nil error, want the context's")
	}
}

func TestPosterObservesRateLimits(t *testing.T) {
	fs := newFakeSlack(t)
	fs.rateLimit = 1
	p := NewPoster(fs.client(), nil)
	p.interval = time.Millisecond
	var mu sync.Mutex
	var seen []string
	p.observe = func(call string, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, call+": "+err.Error())
	}
	if _, err := p.Post(context.Background(), "C1", "", commands.Reply{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !strings.Contains(seen[0], "chat.postMessage: slack rate limit exceeded") {
		t.Errorf("observed %q, want one rate-limited chat.postMessage", seen)
	}
}

func TestPosterUploadsFilesIntoThread(t *testing.T) {
	fs := newFakeSlack(t)
	p := NewPoster(fs.client(), nil)
	p.interval = time.Millisecond
	r := commands.Reply{Title: "Drift report", Text: "3 findings", InChannel: true, Files: []commands.File{
		{Name: "drift-report.csv", Title: "All findings", ContentType: "text/csv", Data: []byte("a,b\n1,2\n")},
		{Name: "empty.md"}, // nothing to upload
	}}
	ts, err := p.Post(context.Background(), "C9", "", r)
	if err != nil {
		t.Fatalf("Post() = %v", err)
	}
	want := []string{"chat.postMessage", "files.getUploadURLExternal", "upload", "files.completeUploadExternal"}
	if got := fs.methods(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Post() calls = %v, want %v", got, want)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	get, up, done := fs.calls[1].Form, fs.calls[2].Form, fs.calls[3].Form
	if get.Get("filename") != "drift-report.csv" || get.Get("length") != "8" {
		t.Errorf("files.getUploadURLExternal form = %v, want the file's name and length", get)
	}
	if up.Get("data") != "a,b\n1,2\n" || up.Get("filename") != "drift-report.csv" {
		t.Errorf("upload = %v, want the file's bytes", up)
	}
	if done.Get("channel_id") != "C9" || done.Get("thread_ts") != ts || !strings.Contains(done.Get("files"), `"title":"All findings"`) || !strings.Contains(done.Get("files"), up.Get("file_id")) {
		t.Errorf("files.completeUploadExternal form = %v, want channel C9, thread %s, the uploaded file and its title", done, ts)
	}
}
