package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors returned by Verifier.Verify, tested with errors.Is.
var (
	ErrMissingSignature = errors.New("slack: missing signature headers")
	ErrBadSignature     = errors.New("slack: signature mismatch")
	ErrStaleRequest     = errors.New("slack: request timestamp outside the allowed window")
)

// Verifier checks Slack's v0 request signatures: HMAC-SHA256 keyed by the
// signing secret over "v0:<timestamp>:<raw body>", compared in constant
// time, with timestamps more than 5 minutes from now refused (PLATFORM.md,
// "Signing"). It is safe for concurrent use.
type Verifier struct {
	secret []byte
	now    func() time.Time
	macs   sync.Pool // of *verifyMAC, each keyed with secret; reused across requests
}

// verifyMAC is a reusable HMAC with room for the signed prefix and the sum.
type verifyMAC struct {
	h   hash.Hash
	buf []byte
}

// NewVerifier returns a verifier for secret. now is the clock; nil means
// time.Now. slack-go's NewSecretsVerifier always reads the real clock, so a
// test could not pin Slack's published example with it.
func NewVerifier(secret string, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{secret: []byte(secret), now: now}
}

// LogValue keeps the signing secret out of logs.
func (v *Verifier) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Verify checks the signature headers of a request against its raw body.
// The error wraps ErrMissingSignature, ErrStaleRequest or ErrBadSignature.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	if len(v.secret) == 0 {
		return errors.New("slack: no signing secret configured")
	}
	sig, ts := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if sig == "" || ts == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := v.now().Sub(time.Unix(sec, 0)); d > signatureWindow || d < -signatureWindow {
		return ErrStaleRequest
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return ErrBadSignature
	}
	var got [sha256.Size]byte
	for i := range got {
		hi, ok1 := fromHex(hexSig[2*i])
		lo, ok2 := fromHex(hexSig[2*i+1])
		if !ok1 || !ok2 {
			return ErrBadSignature
		}
		got[i] = hi<<4 | lo
	}
	m, _ := v.macs.Get().(*verifyMAC)
	if m == nil {
		m = &verifyMAC{h: hmac.New(sha256.New, v.secret), buf: make([]byte, 0, 64)}
	}
	defer v.macs.Put(m)
	m.h.Reset()
	m.buf = append(append(append(m.buf[:0], "v0:"...), ts...), ':')
	m.h.Write(m.buf)
	m.h.Write(body)
	m.buf = m.h.Sum(m.buf[:0])
	if !hmac.Equal(got[:], m.buf) {
		return ErrBadSignature
	}
	return nil
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (v *Verifier) sign(ts string, body []byte) []byte {
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the X-Slack-Signature value for body sent at ts, as Slack
// computes it. It exists for tests and the benchmark, which play Slack.
func (v *Verifier) Sign(ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	return timestamp, "v0=" + hex.EncodeToString(v.sign(timestamp, body))
}
