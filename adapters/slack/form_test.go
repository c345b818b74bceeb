package slack

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"
)

// slackGoParse is what the adapter did before parseSlashCommand: net/http's
// form parsing through slack-go.
func slackGoParse(contentType string, body []byte) (slackgo.SlashCommand, error) {
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return slackgo.SlashCommandParse(r)
}

var slashForms = []struct{ contentType, body string }{
	{formType, "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"},
	{formType, "text=owner+payments-api&user_id=U1&channel_id=C1&is_enterprise_install=true&enterprise_id=E1&enterprise_name=Acme&api_app_id=A1"},
	{formType, "text=first&text=second&user_id=U1&user_id=U2"},
	{formType, "text=%E6%97%A5%E6%9C%AC+%26+%3Cb%3E&other=x"},
	{formType, "te%78t=escaped+key&&=&novalue&text"},
	{formType, "text=bad%zzescape"},
	{formType, "text=ok&other=bad%2"},
	{formType, "text=ok&text=bad%"},
	{formType, "text=a;b"},
	{formType, "bad%key=1&text=ok"},
	{formType + "; charset=utf-8", "text=with+params"},
	{"Application/X-WWW-Form-Urlencoded", "text=case"},
	{"application/json", `{"text":"json"}`},
	{"", "text=no+type"},
	{"not a / type;;", "text=x"},
	{formType, ""},
}

func TestParseSlashCommandMatchesSlackGo(t *testing.T) {
	for _, tt := range slashForms {
		checkParseSlashCommand(t, tt.contentType, []byte(tt.body))
	}
}

func FuzzParseSlashCommand(f *testing.F) {
	for _, tt := range slashForms {
		f.Add(tt.contentType, []byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		checkParseSlashCommand(t, contentType, body)
	})
}

func checkParseSlashCommand(t *testing.T, contentType string, body []byte) {
	t.Helper()
	want, wantErr := slackGoParse(contentType, body)
	got, err := parseSlashCommand(contentType, body)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("parseSlashCommand(%q, %q) error = %v, want %v", contentType, body, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("parseSlashCommand(%q, %q) = %+v, want %+v", contentType, body, got, want)
	}
}

// slowSafeURL is safeURL without its fast path.
func slowSafeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return strings.ReplaceAll(linkEscaper.Replace(p.String()), "&", "&amp;")
}

var linkURLs = []string{
	"https://portal.example.com/catalog/default/component/payments-api",
	"http://localhost:7007/catalog/default/group/team-a?tab=members&x=1",
	"https://git.example.com/acme/service-1/blob/main/catalog-info.yaml",
	"https://Portal.Example.COM/Catalog/A_B~c.d",
	"https://host/?q=a%20b+c,d",
	"https://host?",
	"https://host",
	"https://host:",
	"https://host:80x/",
	"https://host/a b",
	"https://host/a|b<c>",
	"https://host/%41",
	"https://host/q?%zz",
	"https://host/#frag",
	"https://user@host/",
	"HTTPS://host/",
	"ftp://host/",
	"https:///path",
	" https://host/ ",
	"https://ho_st/",
	"https://-/",
	"https://[::1]:80/",
	"javascript:alert(1)",
	"",
}

func TestSafeURLFastPath(t *testing.T) {
	for _, u := range linkURLs {
		if got, want := safeURL(u), slowSafeURL(u); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", u, got, want)
		}
	}
}

func FuzzSafeURL(f *testing.F) {
	for _, u := range linkURLs {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if got, want := safeURL(u), slowSafeURL(u); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", u, got, want)
		}
	})
}
