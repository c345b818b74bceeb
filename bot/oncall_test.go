package bot_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot"
)

// TestAskOncallLive asks the demo catalog who is on call, with
// PORTALBOT_PAGERDUTY_TOKEN pointing the lookup at a fake PagerDuty, then
// without a token.
func TestAskOncallLive(t *testing.T) {
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token token=pd-secret" {
			http.Error(w, `{"error":{"message":"Unauthorized","code":2006}}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/services/PPAYAPI":
			w.Write([]byte(`{"service":{"id":"PPAYAPI","name":"Payments API","escalation_policy":{"id":"PEP1","type":"escalation_policy_reference","summary":"Payments","html_url":"https://acme.pagerduty.com/escalation_policies/PEP1"}}}`))
		case "/oncalls":
			w.Write([]byte(`{"oncalls":[{"escalation_level":1,"user":{"id":"PU1","type":"user","summary":"Ada Lovelace","name":"Ada Lovelace","email":"ada@example.com","html_url":"https://acme.pagerduty.com/users/PU1"},"schedule":null,"start":null,"end":null}],"limit":100,"offset":0,"more":false}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer pd.Close()

	dir := t.TempDir()
	if code, _, errs := runWithStdin(t, "", "demo", "--dir", dir); code != bot.ExitOK {
		t.Fatalf("demo exit %d: %s", code, errs)
	}
	db := "sqlite:" + filepath.Join(dir, "portalbot-demo.db")
	ask := func(env map[string]string) string {
		t.Helper()
		var out, errb bytes.Buffer
		e := &bot.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
		if code := bot.Main(context.Background(), []string{"ask", "--db", db, "who is on call for payments-api?"}, e); code != bot.ExitOK {
			t.Fatalf("ask exit %d: %s", code, errb.String())
		}
		return out.String()
	}
	out := ask(map[string]string{"PORTALBOT_PAGERDUTY_TOKEN": "pd-secret", "PORTALBOT_PAGERDUTY_API_URL": pd.URL})
	for _, want := range []string{"Ada Lovelace (ada@example.com)", "Who is on call now, from PagerDuty escalation policy Payments"} {
		if !strings.Contains(out, want) {
			t.Errorf("ask oncall with a PagerDuty token = \n%s\nwant %q", out, want)
		}
	}
	out = ask(map[string]string{"PORTALBOT_PAGERDUTY_API_URL": pd.URL})
	if want := "I couldn't ask PagerDuty who is on call now: no PagerDuty API token is configured on this bot."; !strings.Contains(out, want) {
		t.Errorf("ask oncall without a token = \n%s\nwant %q", out, want)
	}
	if !strings.Contains(out, "PPAYAPI") {
		t.Errorf("ask oncall without a token = \n%s\nwant the service link kept", out)
	}
}
