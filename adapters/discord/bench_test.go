package discord_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkSignedOwnerInteraction measures the HTTP endpoint end to end
// for /portal owner: body read, timestamp and Ed25519 checks, decoding,
// the engine and rendering, without the network.
func BenchmarkSignedOwnerInteraction(b *testing.B) {
	h := newHarness(b, nil)
	body := readFixture(b, "portal-owner.json")
	stamp := strconv.FormatInt(h.now.Unix(), 10)
	sig := hex.EncodeToString(ed25519.Sign(h.priv, append([]byte(stamp), body...)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
		req.Header.Set("X-Signature-Ed25519", sig)
		req.Header.Set("X-Signature-Timestamp", stamp)
		w := httptest.NewRecorder()
		h.a.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("POST = %d %s", w.Code, w.Body)
		}
	}
}
