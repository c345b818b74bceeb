package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// floorHandler is the floor that portalbot bench holds the owner command
// against (issue 19): the least a signed Slack slash-command endpoint can
// do to answer "owner <name>". It reads the body, verifies Slack's v0
// signature (HMAC-SHA256 over "v0:<timestamp>:<raw body>", at most 5
// minutes old; PLATFORM.md "Signing"), parses the form, runs one SELECT of
// the component's owner by primary key, and writes a small JSON message.
// It shares the store's database handle, so the floor and the command read
// the same tables through the same connection pool.
func floorHandler(db *sqlx.DB, secret string) http.Handler {
	query := db.Rebind("SELECT owner FROM entities WHERE ref = ?")
	key := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		ts := r.Header.Get("X-Slack-Request-Timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		got, err := hex.DecodeString(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
		m := hmac.New(sha256.New, key)
		m.Write([]byte("v0:" + ts + ":"))
		m.Write(body)
		if err != nil || !hmac.Equal(got, m.Sum(nil)) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		name, ok := strings.CutPrefix(form.Get("text"), "owner ")
		if !ok {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var owner string
		err = db.QueryRowContext(r.Context(), query, "component:default/"+strings.ToLower(name)).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// A failed write has nowhere to be reported; the client sees it.
		_ = json.NewEncoder(w).Encode(struct {
			ResponseType string `json:"response_type"`
			Text         string `json:"text"`
		}{"ephemeral", name + " is owned by " + owner})
	})
}
