package commands

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// OnCallSource asks an on-call service who is on call now (implemented by
// package oncall). It must be safe for concurrent use.
type OnCallSource interface {
	// OnCall returns who is on call now in the rotation that the on-call
	// annotation key (pagerduty.com/service-id,
	// pagerduty.com/integration-key or opsgenie.com/team) with value v
	// names. Errors meant for the asker (no token configured, no such
	// service) are UserError and shown as the reason; any other error is
	// logged and summarised.
	OnCall(ctx context.Context, key, v string) (OnCallNow, error)
}

// OnCallNow is who is on call now in one rotation.
type OnCallNow struct {
	// Rotation names what was asked, for the answer: "PagerDuty escalation
	// policy Payments".
	Rotation string
	// URL is the rotation's page at the provider, "" when unknown.
	URL string
	// People are ordered by escalation level, first responders first.
	People []OnCallPerson
}

// OnCallPerson is one person on call now.
type OnCallPerson struct {
	Name  string
	Email string
	// URL is the person's page at the provider, "" when unknown.
	URL string
	// Level is the escalation level, 1 for the first responder; 0 when the
	// provider has no levels (an Opsgenie schedule).
	Level int
	// Until is when the shift ends; zero when unknown or permanent.
	Until time.Time
}

// onCallTimeout bounds a live lookup: the answer falls back to the links
// rather than keep the asker waiting (a slash command's answer already
// follows through response_url after Slack's 3 s).
const onCallTimeout = 5 * time.Second

// maxOnCallPeople bounds the people listed, one field each.
const maxOnCallPeople = 6

// liveOnCall asks h.live who is on call now for the first annotation of
// ann it can answer, and returns the fields naming them with a sentence
// saying where they come from, or no fields and a sentence saying why it
// could not. It returns nothing when ann names no rotation a source could
// ask about.
func (h *handlers) liveOnCall(ctx context.Context, ann map[string]string) ([]Field, string) {
	var key, v, provider string
	for _, a := range oncallAnnotations {
		if a.provider == "" {
			continue
		}
		if s := strings.TrimSpace(ann[a.key]); s != "" {
			key, v, provider = a.key, s, a.provider
			break
		}
	}
	if key == "" {
		return nil, ""
	}
	if h.live == nil {
		return nil, "Live on-call lookups are not set up on this bot, so I can't say who is on call now; the rotation is linked below."
	}
	ctx, cancel := context.WithTimeout(ctx, onCallTimeout)
	defer cancel()
	now, err := h.live.OnCall(ctx, key, v)
	if err != nil {
		var ue *UserError
		switch {
		case errors.As(err, &ue):
			return nil, "I couldn't ask " + provider + " who is on call now: " + strings.TrimSuffix(ue.Msg, ".") + ". The rotation is linked below."
		case errors.Is(err, context.DeadlineExceeded):
			h.logger.WarnContext(ctx, "on-call lookup timed out", "annotation", key, "err", err)
			return nil, provider + " did not answer within " + onCallTimeout.String() + ", so I can't say who is on call now; the rotation is linked below."
		}
		h.logger.WarnContext(ctx, "on-call lookup failed", "annotation", key, "err", err)
		return nil, provider + " did not answer (the error was logged), so I can't say who is on call now; the rotation is linked below."
	}
	if len(now.People) == 0 {
		return nil, "Nobody is on call now in " + now.Rotation + "."
	}
	var fields []Field
	seen := map[string]bool{}
	for _, p := range now.People {
		id := p.Name + "\x00" + p.Email
		if seen[id] || len(fields) == maxOnCallPeople {
			continue
		}
		seen[id] = true
		name := "On call now"
		if p.Level > 1 {
			name = "Escalation level " + strconv.Itoa(p.Level)
		}
		val := truncate(p.Name, 80)
		if p.Email != "" && p.Email != p.Name {
			val += " (" + truncate(p.Email, 80) + ")"
		}
		if !p.Until.IsZero() {
			val += ", until " + p.Until.UTC().Format("Mon 2 Jan 15:04 MST")
		}
		f := Field{Name: name, Value: val}
		if u, ok := safeURL(p.URL); ok {
			f.URL = u
		}
		fields = append(fields, f)
	}
	note := "Who is on call now, from " + now.Rotation + "."
	if u, ok := safeURL(now.URL); ok {
		note = "Who is on call now, from " + now.Rotation + " (" + u + ")."
	}
	return fields, note
}
