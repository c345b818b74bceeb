package scaffolder

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Backstage launches runs on a Backstage scaffolder backend:
// POST /api/scaffolder/v2/tasks {templateRef, values, secrets} answers 201
// {id}, or 400 {errors} on invalid values; GET …/tasks/{id}/eventstream
// streams server-sent events log, completion and cancelled (PLATFORM.md,
// Scaffolder).
type Backstage struct {
	baseURL string
	token   secretToken
	client  *http.Client
	logger  *slog.Logger
}

// secretToken is the bearer token; it never prints.
type secretToken string

// LogValue keeps the token out of logs.
func (secretToken) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the token out of formatted output.
func (secretToken) String() string { return "[redacted]" }

// maxResponseBytes bounds what is read from the scaffolder per response or
// event: task ids and events are small, and a hostile server must not make
// the bot buffer without limit.
const maxResponseBytes = 1 << 20

// NewBackstage returns a launcher for the Backstage at baseURL (no trailing
// slash needed) authenticating with a static external-access token. client
// nil means a client with a 30-second timeout for the launch request; the
// event stream is bounded by follow's ctx instead.
func NewBackstage(baseURL, tok string, client *http.Client, logger *slog.Logger) *Backstage {
	if client == nil {
		client = &http.Client{}
	}
	return &Backstage{baseURL: strings.TrimRight(baseURL, "/"), token: secretToken(tok), client: client, logger: logger.With("component", "scaffolder/backstage")}
}

// launchTimeout bounds the POST that creates a task.
const launchTimeout = 30 * time.Second

// launch creates a task. A 400 answer becomes an *invalidValuesError.
func (b *Backstage) launch(ctx context.Context, run templateRun) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{
		"templateRef": run.Template.Ref.String(),
		"values":      run.Values,
		"secrets":     run.Secrets,
	})
	if err != nil {
		return "", fmt.Errorf("backstage launch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.baseURL+"/api/scaffolder/v2/tasks", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("backstage launch: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(b.token))
	resp, err := b.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("backstage launch: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", fmt.Errorf("backstage launch: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusCreated, http.StatusOK:
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
			return "", fmt.Errorf("backstage launch: answer without a task id")
		}
		return out.ID, nil
	case http.StatusBadRequest:
		return "", &invalidValuesError{Fields: badRequestFields(data)}
	}
	return "", fmt.Errorf("backstage launch: %s: %s", resp.Status, abbrev(string(data)))
}

// badRequestFields reads the scaffolder's 400 answer: {errors: [...]} with
// the jsonschema library's errors (property "instance.x", name "required"
// with argument "x", message), or {error: {message}}.
func badRequestFields(data []byte) map[string]string {
	var body struct {
		Errors []struct {
			Property string `json:"property"`
			Path     []any  `json:"path"`
			Name     string `json:"name"`
			Argument any    `json:"argument"`
			Message  string `json:"message"`
		} `json:"errors"`
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	out := map[string]string{}
	if err := json.Unmarshal(data, &body); err != nil {
		out[""] = "The scaffolder refused the values."
		return out
	}
	for _, e := range body.Errors {
		field := strings.TrimPrefix(strings.TrimPrefix(e.Property, "instance"), ".")
		if len(e.Path) > 0 {
			parts := make([]string, len(e.Path))
			for i, p := range e.Path {
				parts[i] = toString(p)
			}
			field = strings.Join(parts, ".")
		}
		msg := e.Message
		if e.Name == "required" {
			if a, ok := e.Argument.(string); ok {
				if field != "" {
					field += "."
				}
				field += a
				msg = "Required."
			}
		}
		if _, dup := out[field]; !dup {
			out[field] = msg
		}
	}
	if len(out) == 0 {
		msg := body.Error.Message
		if msg == "" {
			msg = "The scaffolder refused the values."
		}
		out[""] = msg
	}
	return out
}

// maxReconnects is how often follow reopens a dropped event stream,
// resuming after the last event it saw.
const maxReconnects = 3

// follow reads the task's event stream until a completion or cancelled
// event, reconnecting after a dropped connection.
func (b *Backstage) follow(ctx context.Context, taskID string, progress func(event)) (result, error) {
	after := ""
	var lastErr error
	for attempt := 0; attempt <= maxReconnects; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return result{}, ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		res, last, done, err := b.stream(ctx, taskID, after, progress)
		if last != "" {
			after = last
		}
		if done {
			return res, nil
		}
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		lastErr = err
		b.logger.WarnContext(ctx, "task event stream dropped", "task_id", taskID, "attempt", attempt, "err", err)
	}
	return result{}, fmt.Errorf("backstage follow %s: %w", taskID, lastErr)
}

// taskEvent is Backstage's serialized task event.
type taskEvent struct {
	ID   json.RawMessage `json:"id"`
	Type string          `json:"type"`
	Body struct {
		Message string `json:"message"`
		StepID  string `json:"stepId"`
		Status  string `json:"status"`
		Output  struct {
			Links []struct {
				Title     string `json:"title"`
				URL       string `json:"url"`
				EntityRef string `json:"entityRef"`
			} `json:"links"`
			Text []struct {
				Title   string `json:"title"`
				Content string `json:"content"`
			} `json:"text"`
		} `json:"output"`
		Error *struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"body"`
}

func (b *Backstage) stream(ctx context.Context, taskID, after string, progress func(event)) (res result, last string, done bool, err error) {
	u := b.baseURL + "/api/scaffolder/v2/tasks/" + url.PathEscape(taskID) + "/eventstream"
	if after != "" {
		u += "?after=" + url.QueryEscape(after)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return res, "", false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+string(b.token))
	resp, err := b.client.Do(req)
	if err != nil {
		return res, "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return res, "", false, fmt.Errorf("event stream: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxResponseBytes)
	var typ string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() == 0 {
				typ = ""
				continue
			}
			var ev taskEvent
			if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
				b.logger.WarnContext(ctx, "bad task event", "task_id", taskID, "err", err)
			} else {
				if ev.Type == "" {
					ev.Type = typ
				}
				if id := strings.Trim(string(ev.ID), `"`); id != "" {
					last = id
				}
				if r, end := b.handle(ev, progress); end {
					return r, last, true, nil
				}
			}
			typ = ""
			data.Reset()
		case strings.HasPrefix(line, "event:"):
			typ = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return res, last, false, err
	}
	return res, last, false, errors.New("event stream ended before the task did")
}

func (b *Backstage) handle(ev taskEvent, progress func(event)) (result, bool) {
	e := event{Type: ev.Type, StepID: ev.Body.StepID, Status: ev.Body.Status, Message: ev.Body.Message}
	switch ev.Type {
	case "completion":
		r := result{Status: "completed"}
		if ev.Body.Error != nil {
			r.Status, r.Error = "failed", ev.Body.Error.Message
		}
		for _, l := range ev.Body.Output.Links {
			r.Links = append(r.Links, outputLink{Title: l.Title, URL: l.URL, EntityRef: l.EntityRef})
		}
		for _, t := range ev.Body.Output.Text {
			r.Text = append(r.Text, strings.TrimSpace(t.Title+"\n"+t.Content))
		}
		progress(e)
		return r, true
	case "cancelled":
		progress(e)
		return result{Status: "cancelled", Error: ev.Body.Message}, true
	}
	progress(e)
	return result{}, false
}
