package discord_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/portalbot/portalbot/adapters/discord"
)

const testAppID = "424242"

// harness is an adapter with its HTTP endpoint, a fake Discord and the
// signing key of the application.
type harness struct {
	a      *discord.Adapter
	engine *testEngine
	fake   *fakeDiscord
	srv    *httptest.Server
	priv   ed25519.PrivateKey
	now    time.Time
}

func newHarness(t testing.TB, mod func(*discord.Params)) *harness {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{engine: newTestEngine(t), fake: newFakeDiscord(t), priv: priv, now: time.Unix(1_760_000_000, 0)}
	p := discord.Params{
		Engine:          h.engine,
		Session:         h.fake.session(t, true),
		AppID:           testAppID,
		PublicKey:       pub,
		GuildID:         "777",
		MessageCommands: true,
		Now:             func() time.Time { return h.now },
		DeferAfter:      time.Second,
	}
	if mod != nil {
		mod(&p)
	}
	h.a, err = discord.New(p)
	if err != nil {
		t.Fatalf("discord.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /discord/interactions", h.a)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		h.srv.Close()
		close(h.engine.release)
		h.a.Wait()
	})
	return h
}

// post sends body to the endpoint signed with key at ts.
func (h *harness) post(t *testing.T, body []byte, key ed25519.PrivateKey, ts time.Time) (int, []byte) {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig := ed25519.Sign(key, append([]byte(stamp), body...))
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/discord/interactions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	req.Header.Set("X-Signature-Timestamp", stamp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // a short read fails the JSON checks below
	return resp.StatusCode, b
}

// interact posts a correctly signed interaction and decodes the answer.
func (h *harness) interact(t *testing.T, body []byte) discordgo.InteractionResponse {
	t.Helper()
	code, b := h.post(t, body, h.priv, h.now)
	if code != http.StatusOK {
		t.Fatalf("POST /discord/interactions = %d %s, want 200", code, b)
	}
	return decodeResponse(t, b)
}

// decodeResponse decodes an interaction response, components included
// (discordgo decodes those only through MessageComponentFromJSON).
func decodeResponse(t *testing.T, b []byte) discordgo.InteractionResponse {
	t.Helper()
	var raw struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data *struct {
			discordgo.InteractionResponseData
			Components []json.RawMessage `json:"components"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
	resp := discordgo.InteractionResponse{Type: raw.Type}
	if raw.Data != nil {
		resp.Data = &raw.Data.InteractionResponseData
		resp.Data.Components = nil
		for _, c := range raw.Data.Components {
			mc, err := discordgo.MessageComponentFromJSON(c)
			if err != nil {
				t.Fatalf("component %s: %v", c, err)
			}
			resp.Data.Components = append(resp.Data.Components, mc)
		}
	}
	return resp
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/interactions/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEndpointVerifiesBeforeAnything(t *testing.T) {
	h := newHarness(t, nil)
	ping := readFixture(t, "ping.json")
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		body []byte
		key  ed25519.PrivateKey
		ts   time.Time
		want int
	}{
		{"good", ping, h.priv, h.now, http.StatusOK},
		{"good, 4 minutes old", ping, h.priv, h.now.Add(-4 * time.Minute), http.StatusOK},
		{"forged", ping, otherKey, h.now, http.StatusUnauthorized},
		{"stale", ping, h.priv, h.now.Add(-6 * time.Minute), http.StatusUnauthorized},
		{"from the future", ping, h.priv, h.now.Add(6 * time.Minute), http.StatusUnauthorized},
		{"oversized", append(append([]byte(nil), ping[:len(ping)-1]...), []byte(`,"pad":"`+strings.Repeat("x", 300<<10)+`"}`)...), h.priv, h.now, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := h.post(t, tt.body, tt.key, tt.ts)
			if code != tt.want {
				t.Fatalf("POST signed %s = %d %s, want %d", tt.name, code, body, tt.want)
			}
			if code == http.StatusOK && strings.TrimSpace(string(body)) != `{"type":1}` {
				t.Errorf("PING answer = %s, want {\"type\":1}", body)
			}
		})
	}

	t.Run("tampered body", func(t *testing.T) {
		stamp := strconv.FormatInt(h.now.Unix(), 10)
		sig := ed25519.Sign(h.priv, append([]byte(stamp), ping...))
		tampered := bytes.Replace(ping, []byte(`"type": 1`), []byte(`"type": 2`), 1)
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/discord/interactions", bytes.NewReader(tampered))
		req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
		req.Header.Set("X-Signature-Timestamp", stamp)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST tampered body = %d, want 401", resp.StatusCode)
		}
	})
	t.Run("no signature", func(t *testing.T) {
		resp, err := http.Post(h.srv.URL+"/discord/interactions", "application/json", bytes.NewReader(ping))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST unsigned = %d, want 401", resp.StatusCode)
		}
	})
	// Nothing above may have reached Discord or the engine.
	h.fake.none(t)
}

func TestSlashOwnerAnsweredImmediately(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.interact(t, readFixture(t, "portal-owner.json"))
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource {
		t.Fatalf("response type = %d, want 4", resp.Type)
	}
	if resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Errorf("flags = %d, want ephemeral (64)", resp.Data.Flags)
	}
	if len(resp.Data.Embeds) == 0 || resp.Data.Embeds[0].Title != "payments-api" {
		t.Fatalf("embeds = %+v, want a payments-api embed", resp.Data.Embeds)
	}
	f := resp.Data.Embeds[0].Fields
	if len(f) != 1 || f[0].Name != "Owner" || !strings.Contains(f[0].Value, "team-payments") {
		t.Errorf("fields = %+v, want Owner: team-payments", f)
	}
}

func TestSlashUnknownEntityIsAUserMessage(t *testing.T) {
	h := newHarness(t, nil)
	body := bytes.Replace(readFixture(t, "portal-owner.json"), []byte(`"payments-api"`), []byte(`"nope-api"`), 1)
	resp := h.interact(t, body)
	if resp.Data == nil || !strings.Contains(resp.Data.Content, `no entity "nope-api"`) {
		t.Errorf("answer = %+v, want the engine's user error", resp.Data)
	}
}

func TestSlashSlowIsDeferredThenEdited(t *testing.T) {
	h := newHarness(t, func(p *discord.Params) { p.DeferAfter = 20 * time.Millisecond })
	body := bytes.Replace(readFixture(t, "portal-owner.json"), []byte(`"name": "owner"`), []byte(`"name": "slow"`), 1)
	resp := h.interact(t, body)
	if resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("response type = %d, want 5 (deferred)", resp.Type)
	}
	h.fake.none(t) // the engine is still blocked
	h.engine.release <- struct{}{}
	c := h.fake.next(t)
	if c.Method != http.MethodPatch || c.Path != "/api/v9/webhooks/"+testAppID+"/interaction-token-1/messages/@original" {
		t.Fatalf("follow-up call = %s %s, want PATCH of @original", c.Method, c.Path)
	}
	if got := c.Body["content"]; got != "slow answer for payments-api" {
		t.Errorf("edited content = %q, want the slow answer", got)
	}
	if c.Auth != "Bot test-token" {
		t.Errorf("Authorization = %q, want the bot token", c.Auth)
	}
}

func TestAutocompleteOffersEntities(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.interact(t, readFixture(t, "portal-owner-autocomplete.json"))
	if resp.Type != discordgo.InteractionApplicationCommandAutocompleteResult {
		t.Fatalf("response type = %d, want 8", resp.Type)
	}
	var got []string
	for _, c := range resp.Data.Choices {
		got = append(got, c.Value.(string))
	}
	if len(got) != 2 || !contains(got, "payments-api") || !contains(got, "payouts-worker") {
		t.Errorf("choices = %v, want payments-api and payouts-worker", got)
	}
}

func TestSearchInChannelIsNotEphemeral(t *testing.T) {
	h := newHarness(t, nil)
	resp := h.interact(t, readFixture(t, "portal-search.json"))
	if resp.Data.Flags != 0 {
		t.Errorf("flags = %d, want 0 for an in-channel reply", resp.Data.Flags)
	}
	if resp.Data.Content != "searched: card payments" {
		t.Errorf("content = %q, want the query passed on as typed", resp.Data.Content)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
