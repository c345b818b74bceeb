package slack_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	slackadapter "github.com/portalbot/portalbot/adapters/slack"
)

// Slack's published worked example (PLATFORM.md, "Slack's published worked example").
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = 1531420618
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerifierSlackExample(t *testing.T) {
	at := func(sec int64) func() time.Time {
		return func() time.Time { return time.Unix(sec, 0) }
	}
	header := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set("X-Slack-Request-Timestamp", ts)
		}
		if sig != "" {
			h.Set("X-Slack-Signature", sig)
		}
		return h
	}
	tampered := []byte(exampleBody)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name   string
		now    int64
		secret string
		h      http.Header
		body   []byte
		want   error
	}{
		{"worked example", exampleTimestamp + 10, exampleSecret, header("1531420618", exampleSignature), []byte(exampleBody), nil},
		{"4m59s later", exampleTimestamp + 299, exampleSecret, header("1531420618", exampleSignature), []byte(exampleBody), nil},
		{"clock behind", exampleTimestamp - 299, exampleSecret, header("1531420618", exampleSignature), []byte(exampleBody), nil},
		{"stale", exampleTimestamp + 301, exampleSecret, header("1531420618", exampleSignature), []byte(exampleBody), slackadapter.ErrStaleRequest},
		{"future", exampleTimestamp - 301, exampleSecret, header("1531420618", exampleSignature), []byte(exampleBody), slackadapter.ErrStaleRequest},
		{"tampered body", exampleTimestamp, exampleSecret, header("1531420618", exampleSignature), tampered, slackadapter.ErrBadSignature},
		{"other secret", exampleTimestamp, "not-the-secret", header("1531420618", exampleSignature), []byte(exampleBody), slackadapter.ErrBadSignature},
		{"other timestamp", exampleTimestamp, exampleSecret, header("1531420619", exampleSignature), []byte(exampleBody), slackadapter.ErrBadSignature},
		{"no v0 prefix", exampleTimestamp, exampleSecret, header("1531420618", exampleSignature[3:]), []byte(exampleBody), slackadapter.ErrBadSignature},
		{"short signature", exampleTimestamp, exampleSecret, header("1531420618", exampleSignature[:40]), []byte(exampleBody), slackadapter.ErrBadSignature},
		{"not hex", exampleTimestamp, exampleSecret, header("1531420618", "v0=zz"+exampleSignature[5:]), []byte(exampleBody), slackadapter.ErrBadSignature},
		{"bad timestamp", exampleTimestamp, exampleSecret, header("15314x0618", exampleSignature), []byte(exampleBody), slackadapter.ErrBadSignature},
		{"no headers", exampleTimestamp, exampleSecret, header("", ""), []byte(exampleBody), slackadapter.ErrMissingSignature},
		{"no signature", exampleTimestamp, exampleSecret, header("1531420618", ""), []byte(exampleBody), slackadapter.ErrMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := slackadapter.NewVerifier(tt.secret, at(tt.now))
			err := v.Verify(tt.h, tt.body)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifierSignMatchesExample(t *testing.T) {
	v := slackadapter.NewVerifier(exampleSecret, nil)
	ts, sig := v.Sign(time.Unix(exampleTimestamp, 0), []byte(exampleBody))
	if ts != "1531420618" || sig != exampleSignature {
		t.Errorf("Sign() = %s, %s, want 1531420618, %s", ts, sig, exampleSignature)
	}
}

func TestVerifierNoSecret(t *testing.T) {
	v := slackadapter.NewVerifier("", func() time.Time { return time.Unix(exampleTimestamp, 0) })
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	h.Set("X-Slack-Signature", exampleSignature)
	if err := v.Verify(h, []byte(exampleBody)); err == nil {
		t.Errorf("Verify() with no secret = nil, want an error")
	}
}
