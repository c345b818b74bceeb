package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// readVerified reads the raw body (at most maxBody bytes) and verifies its
// signature before anything is parsed. On failure it has answered (413 or
// 401, with no detail) and returns false.
func (a *Adapter) readVerified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "bad request", http.StatusBadRequest)
		}
		return nil, false
	}
	if err := a.verifier.Verify(r.Header, body); err != nil {
		a.logger.WarnContext(r.Context(), "slack request refused", "path", r.URL.Path, "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// writeJSON answers 200 with v as JSON, or an empty 200 when v is nil.
func (a *Adapter) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	if v == nil || isNilPointer(v) {
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := marshalAnswer(v)
	if err != nil {
		a.logger.ErrorContext(r.Context(), "encode slack answer", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(b); err != nil {
		a.logger.DebugContext(r.Context(), "write slack answer", "err", err)
	}
}

func isNilPointer(v any) bool {
	switch p := v.(type) {
	case *slackgo.WebhookMessage:
		return p == nil
	case *slackgo.ViewSubmissionResponse:
		return p == nil
	case *slackgo.OptionsResponse:
		return p == nil
	}
	return false
}

func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	body, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	sc, err := parseSlashCommand(r.Header.Get("Content-Type"), body)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.writeJSON(w, r, a.slash(r.Context(), sc, start))
}

func (a *Adapter) serveInteractions(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	body, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var cb slackgo.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a.writeJSON(w, r, a.interaction(r.Context(), &cb, start))
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		if _, err := io.WriteString(w, v.Challenge); err != nil {
			a.logger.DebugContext(r.Context(), "write challenge", "err", err)
		}
	case slackevents.CallbackEvent:
		outer, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
		retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num")) // 0 when absent
		a.goBackground(r.Context(), func(ctx context.Context) { a.callbackEvent(ctx, outer, retry) })
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
	}
}
