package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

// ServeHTTP is the interactions endpoint, POST /discord/interactions.
// Before any other work it checks the body's size, the timestamp's
// freshness and the Ed25519 signature, and answers 401 when either check
// fails: Discord probes the endpoint with bad signatures and drops it if
// they are accepted (PLATFORM.md, Discord: HTTP interactions). A valid
// interaction is answered in the response body within Discord's 3 s,
// deferred when the engine is slower.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if !a.verify(r, body) {
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil || i.Type == 0 {
		http.Error(w, "bad interaction", http.StatusBadRequest)
		return
	}

	// The exchange outlives this request: the engine may finish after a
	// deferred response, within the token's lifetime.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), tokenLifetime)
	first := make(chan *discordgo.InteractionResponse)
	written := make(chan error, 1)
	respond := func(resp *discordgo.InteractionResponse) error {
		select {
		case first <- resp:
		case <-r.Context().Done():
			return r.Context().Err()
		}
		// Edits and follow-ups must not overtake the initial response.
		return <-written
	}
	a.work.Add(1)
	go func() {
		defer a.work.Done()
		defer cancel()
		a.interact(ctx, &i, respond)
	}()

	select {
	case resp := <-first:
		b, err := json.Marshal(resp)
		if err != nil {
			written <- err
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, err = w.Write(b)
		written <- err
	case <-r.Context().Done():
	}
}

// verify checks the X-Signature-Timestamp window, then the Ed25519
// signature over timestamp + body with discordgo.VerifyInteraction.
func (a *Adapter) verify(r *http.Request, body []byte) bool {
	if len(a.publicKey) == 0 {
		return false
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-Signature-Timestamp"), 10, 64)
	if err != nil {
		return false
	}
	age := a.now().Sub(time.Unix(ts, 0))
	if age > signatureWindow || age < -signatureWindow {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return discordgo.VerifyInteraction(r, a.publicKey)
}
