package commands_test

import (
	"context"
	"errors"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/commands"
)

// teamDrift is a DriftSource with one finding per team it is asked about.
type teamDrift struct{ asked []string }

func (d *teamDrift) Findings(_ context.Context, _ time.Time, f drift.Filter) ([]drift.Finding, error) {
	d.asked = append(d.asked, f.Teams...)
	var out []drift.Finding
	for _, t := range f.Teams {
		out = append(out, drift.Finding{Entity: "component:default/ledger", Drift: drift.RuleCodeOwnersMismatch, Owner: t, Message: "CODEOWNERS names @acme/platform."})
	}
	return out, nil
}

// listTemplates is a TemplateService whose List answers for the user's
// email, so the test sees the request reached it.
type listTemplates struct{ err error }

func (l listTemplates) List(_ context.Context, req *commands.Request, _ string) (commands.Reply, error) {
	if l.err != nil {
		return commands.Reply{}, l.err
	}
	return commands.Reply{Sections: []commands.Section{{Title: "Go service for " + req.UserEmail,
		Buttons: []commands.Button{{Text: "Launch", Action: commands.ActionTemplateLaunch, Value: "template:default/go-service"}}}}}, nil
}
func (listTemplates) Open(context.Context, *commands.Request, string) (commands.Reply, error) {
	return commands.Reply{}, nil
}
func (listTemplates) Submit(context.Context, *commands.Request) (commands.Reply, error) {
	return commands.Reply{}, nil
}
func (listTemplates) SuggestSources() map[string]commands.SuggestFunc { return nil }

func sectionTitles(rep commands.Reply) []string {
	var out []string
	for _, s := range rep.Sections {
		out = append(out, s.Title)
	}
	return out
}

func TestHome(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, st)
	d := &teamDrift{}
	r := commands.New(commands.Params{Store: st, PortalURL: portal, Drift: d, Templates: listTemplates{}})
	ctx := context.Background()

	rep := r.Home(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1", UserEmail: "Alice@Example.com"})
	if rep.Title != "Hello, Alice Moreau" {
		t.Errorf("Home(alice).Title = %q, want Hello, Alice Moreau", rep.Title)
	}
	want := []string{"Your team Payments Team (group:payments)", "Ownership drift for your teams", "payments (group:default/payments): 1 issue, 1 finding",
		"Templates you may launch", "Go service for Alice@Example.com"}
	if got := sectionTitles(rep); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Home(alice) sections = %q, want %q", got, want)
	}
	team := rep.Sections[0]
	if len(team.Fields) != 1 || team.Fields[0].Value != "3 components, 1 API, 1 resource, 1 system" {
		t.Errorf("Home(alice) team fields = %+v, want what payments owns", team.Fields)
	}
	if n := len(team.Links); n != 6 || team.Links[5].URL != portal+"/catalog/default/group/payments" {
		t.Errorf("Home(alice) team links = %+v, want 5 owned entities and the team page", team.Links)
	}
	if strings.Join(d.asked, ",") != "group:default/payments" {
		t.Errorf("drift asked about teams %q, want group:default/payments", d.asked)
	}
	if b := rep.Sections[4].Buttons; len(b) != 1 || b[0].Action != commands.ActionTemplateLaunch {
		t.Errorf("Home(alice) template buttons = %+v, want its Launch button", b)
	}

	for _, tt := range []struct {
		name, email, want string
	}{
		{"no email", "", "the chat platform did not share your email address"},
		{"unknown email", "zoe@example.com", "No User entity in the catalog has the email address zoe@example.com"},
	} {
		rep := r.Home(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U2", UserEmail: tt.email})
		if !strings.Contains(rep.Text, tt.want) || strings.Contains(flat(rep), "Your team") {
			t.Errorf("Home(%s) = %s, want %q and no teams", tt.name, flat(rep), tt.want)
		}
	}

	// A template service refusing the user says why in the page.
	r = commands.New(commands.Params{Store: st, PortalURL: portal, Templates: listTemplates{err: commands.Userf("Templates are off for you.")}})
	rep = r.Home(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1", UserEmail: "alice@example.com"})
	if got := flat(rep); !strings.Contains(got, "Templates are off for you.") || strings.Contains(got, "drift") {
		t.Errorf("Home(alice, no drift, templates refused) = %s", got)
	}
	r = commands.New(commands.Params{Store: st, PortalURL: portal, Templates: listTemplates{err: errors.New("db down at 10.0.0.3")}})
	rep = r.Home(ctx, &commands.Request{Platform: commands.PlatformSlack, UserID: "U1", UserEmail: "alice@example.com"})
	if got := flat(rep); strings.Contains(got, "10.0.0.3") || !strings.Contains(got, "could not be listed") {
		t.Errorf("Home(alice, templates failing) = %s, want a short note without the error", got)
	}
	if rep := commands.NewRouter(nil).Home(ctx, &commands.Request{}); !strings.Contains(rep.Text, "/portal") {
		t.Errorf("Home on a bare router = %s, want the introduction", flat(rep))
	}
}
