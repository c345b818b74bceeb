package bot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// slackUpload is one file shared through files.uploadV2.
type slackUpload struct {
	Channel, Thread, Name, Title string
	Data                         []byte
}

// slackFiles speaks Slack's files.uploadV2 sequence for the bot's fake
// Slack servers: files.getUploadURLExternal hands out an upload URL on the
// same server, the multipart upload stores the bytes, and
// files.completeUploadExternal shares them into a channel and thread, with
// the real methods' form fields and JSON answers.
type slackFiles struct {
	mu      sync.Mutex
	pending map[string]slackUpload // by file id; guarded by mu
	done    []slackUpload          // guarded by mu
	seq     int                    // guarded by mu
}

// serve answers r when it is part of an upload and reports whether it was.
func (f *slackFiles) serve(w http.ResponseWriter, r *http.Request, base string) bool {
	switch {
	case r.URL.Path == "/api/files.getUploadURLExternal":
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil || r.Form.Get("filename") == "" || r.Form.Get("length") == "" || r.Form.Get("length") == "0" {
			io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
			return true
		}
		f.mu.Lock()
		if f.pending == nil {
			f.pending = map[string]slackUpload{}
		}
		f.seq++
		id := fmt.Sprintf("F%06d", f.seq)
		f.pending[id] = slackUpload{Name: r.Form.Get("filename")}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "upload_url": base + "/upload/" + id, "file_id": id})
		return true
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		id := strings.TrimPrefix(r.URL.Path, "/upload/")
		file, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return true
		}
		data, _ := io.ReadAll(file)
		f.mu.Lock()
		u, ok := f.pending[id]
		u.Data = data
		f.pending[id] = u
		f.mu.Unlock()
		if !ok {
			http.Error(w, "unknown upload", http.StatusNotFound)
			return true
		}
		fmt.Fprintf(w, "OK - %d", len(data))
		return true
	case r.URL.Path == "/api/files.completeUploadExternal":
		w.Header().Set("Content-Type", "application/json")
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if r.ParseForm() != nil || json.Unmarshal([]byte(r.Form.Get("files")), &files) != nil || len(files) != 1 {
			io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
			return true
		}
		f.mu.Lock()
		u, ok := f.pending[files[0].ID]
		delete(f.pending, files[0].ID)
		if ok {
			u.Channel, u.Thread, u.Title = r.Form.Get("channel_id"), r.Form.Get("thread_ts"), files[0].Title
			f.done = append(f.done, u)
		}
		f.mu.Unlock()
		if !ok {
			io.WriteString(w, `{"ok":false,"error":"file_not_found"}`)
			return true
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "files": []map[string]any{{"id": files[0].ID, "title": files[0].Title}}})
		return true
	}
	return false
}

// uploads returns the completed uploads, in order.
func (f *slackFiles) uploads() []slackUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackUpload(nil), f.done...)
}
