package commands_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/commands"
)

func TestPreview(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, st)
	src := &fakeOnCall{fn: func(context.Context, string, string) (commands.OnCallNow, error) {
		return commands.OnCallNow{Rotation: "PagerDuty escalation policy Payments", People: []commands.OnCallPerson{{Name: "Ada Lovelace", Level: 1}}}, nil
	}}
	r := commands.New(commands.Params{Store: st, PortalURL: portal, OnCall: src})
	req := &commands.Request{Platform: commands.PlatformSlack, UserID: "U1"}

	rep, ok := r.Preview(context.Background(), req, portal+"/catalog/default/Component/payments-api/api?x=1")
	if !ok {
		t.Fatalf("Preview(payments-api link) = not ok")
	}
	for name, want := range map[string]string{
		"Owner":       "Payments Team (group:payments)",
		"On call now": "Ada Lovelace",
		"Docs":        "TechDocs",
		"Lifecycle":   "production",
	} {
		if f, _ := field(rep, name); f.Value != want {
			t.Errorf("Preview(payments-api link) field %q = %q, want %q\n%s", name, f.Value, want, flat(rep))
		}
	}
	if f, _ := field(rep, "Docs"); f.URL != portal+"/docs/default/component/payments-api" {
		t.Errorf("Preview(payments-api link) Docs URL = %q", f.URL)
	}
	if rep.Title != "Payments API (component:payments-api)" || !rep.InChannel {
		t.Errorf("Preview(payments-api link) title %q, in channel %v; want the title and ref, in channel", rep.Title, rep.InChannel)
	}

	// Without a live lookup, the on-call field links the rotation and
	// says nothing about why (that is for oncall's private answer).
	r2 := commands.New(commands.Params{Store: st, PortalURL: portal})
	rep, ok = r2.Preview(context.Background(), req, portal+"/catalog/default/component/worker-42")
	if !ok {
		t.Fatalf("Preview(worker-42 link) = not ok")
	}
	if f, _ := field(rep, "On call"); f.Value != "Opsgenie team checkout-oncall" {
		t.Errorf("Preview(worker-42 link) On call = %+v, want the owner's Opsgenie team\n%s", f, flat(rep))
	}
	if got := flat(rep); strings.Contains(got, "not set up") {
		t.Errorf("Preview(worker-42 link) = %s, want no setup talk in a public unfurl", got)
	}

	for _, link := range []string{
		portal + "/catalog/default/component/no-such-thing",
		"https://elsewhere.example.com/catalog/default/component/payments-api",
		portal + "/catalog/default/component",
		"not a link",
	} {
		if rep, ok := r.Preview(context.Background(), req, link); ok {
			t.Errorf("Preview(%q) = %s, ok; want no preview", link, flat(rep))
		}
	}
	if _, ok := commands.NewRouter(nil).Preview(context.Background(), req, portal+"/catalog/default/component/payments-api"); ok {
		t.Errorf("Preview on a bare router = ok, want no preview")
	}
}
