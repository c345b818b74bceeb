package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/commands"
)

const portal = "https://portal.example.com"

// loadFixtures applies testdata/catalog to st as one full sync of source
// "acme/catalog", with the fixture CODEOWNERS as the source's file.
func loadFixtures(tb testing.TB, st catalog.Store) {
	tb.Helper()
	dir := filepath.Join("testdata", "catalog")
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("fixtures: %v (%d files)", err, len(paths))
	}
	sort.Strings(paths)
	var files []catalog.FileResult
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		rel := filepath.Base(p)
		ents, errs := catalog.Parse(f, rel)
		f.Close()
		if len(errs) > 0 {
			tb.Fatalf("fixture %s: %v", rel, errs)
		}
		files = append(files, catalog.FileResult{Path: rel, Entities: ents})
	}
	co, err := os.ReadFile(filepath.Join(dir, "CODEOWNERS"))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "acme/catalog", Repo: dir, Commit: "c0ffee", Status: "ok", CodeOwners: string(co)},
		Full:   true,
		Files:  files,
	})
	if err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
	if len(res.Errors) > 0 {
		tb.Fatalf("ApplySync errors: %v", res.Errors)
	}
}

func newRouter(tb testing.TB, st catalog.Store) *commands.Router {
	tb.Helper()
	return commands.New(commands.Params{Store: st, PortalURL: portal + "/"})
}

func ask(r *commands.Router, text string) commands.Reply {
	return r.Serve(context.Background(), &commands.Request{Platform: commands.PlatformConsole, UserID: "tester", Text: text})
}

// flat is the reply as JSON, for substring checks that do not care where
// in the reply a piece of text is.
func flat(rep commands.Reply) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		panic(err)
	}
	return b.String()
}

func field(rep commands.Reply, name string) (commands.Field, bool) {
	for _, f := range rep.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return commands.Field{}, false
}

type replyCase struct {
	name string
	in   string
	// want are substrings of the JSON reply; not are substrings it must lack.
	want []string
	not  []string
	// fields that must have exactly this value (and URL, when given).
	fields map[string]string
	urls   map[string]string
	// buttons are Button values that must be offered.
	buttons []string
}

func (tt replyCase) check(t *testing.T, r *commands.Router) {
	t.Helper()
	rep := ask(r, tt.in)
	got := flat(rep)
	for _, w := range tt.want {
		if !strings.Contains(got, w) {
			t.Errorf("Serve(%q) = %s\nwant it to contain %q", tt.in, got, w)
		}
	}
	for _, n := range tt.not {
		if strings.Contains(got, n) {
			t.Errorf("Serve(%q) = %s\nwant no %q", tt.in, got, n)
		}
	}
	for name, v := range tt.fields {
		f, ok := field(rep, name)
		if !ok || f.Value != v {
			t.Errorf("Serve(%q) field %q = %q (present %v), want %q", tt.in, name, f.Value, ok, v)
		}
	}
	for name, u := range tt.urls {
		if f, _ := field(rep, name); f.URL != u {
			t.Errorf("Serve(%q) field %q URL = %q, want %q", tt.in, name, f.URL, u)
		}
	}
	for _, b := range tt.buttons {
		found := false
		for _, bt := range rep.Buttons {
			found = found || bt.Value == b
		}
		if !found {
			t.Errorf("Serve(%q) buttons = %+v, want one with value %q", tt.in, rep.Buttons, b)
		}
	}
}

func runCases(t *testing.T, r *commands.Router, cases []replyCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, r) })
	}
}

func sqliteRouter(t *testing.T) *commands.Router {
	t.Helper()
	st := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, st)
	return newRouter(t, st)
}

var ownerCases = []replyCase{
	{
		name: "command",
		in:   "owner payments-api",
		want: []string{`"title":"payments-api is owned by Payments Team"`, "Alice Moreau, Bob Okafor, carol",
			portal + "/catalog/default/component/payments-api", "https://git.example.com/acme/payments-api/"},
		fields: map[string]string{
			"Owner": "Payments Team (group:payments)", "Email": "payments@example.com",
			"Slack": "#payments-team", "System": "Payments Platform (payments)", "Domain": "Commerce (commerce)",
		},
		urls: map[string]string{"Owner": portal + "/catalog/default/group/payments", "System": portal + "/catalog/default/system/payments"},
		not:  []string{"CODEOWNERS"},
	},
	{name: "question", in: "Who owns payments-api?", fields: map[string]string{"Owner": "Payments Team (group:payments)"}},
	{name: "owner of, any case", in: "owner of PAYMENTS-API", fields: map[string]string{"Owner": "Payments Team (group:payments)"}},
	{name: "kind:name", in: "owner component:payments-api", fields: map[string]string{"Owner": "Payments Team (group:payments)"}},
	{name: "kind:namespace/name", in: "owner Component:finance/reporting", fields: map[string]string{"Owner": "Payments Team (group:payments)"},
		want: []string{portal + "/catalog/finance/component/reporting"}},
	{name: "api has definition link", in: "owner payments-rest", want: []string{portal + "/catalog/default/api/payments-rest/definition"}},
	{name: "channel id kept as id", in: "owner worker-42", fields: map[string]string{"Slack": "C0123ABCD", "Owner": "Checkout Team (group:checkout)"}},
	{name: "typo", in: "owner paymnts-api", want: []string{`I found no entity named \"paymnts-api\". Did you mean payments-api?`},
		buttons: []string{"owner component:default/payments-api"}},
	{name: "transposition", in: "who owns pyaments-api", want: []string{"Did you mean payments-api?"}},
	{name: "missing digit", in: "owner worker-4", want: []string{"Did you mean worker-42?"}, buttons: []string{"owner component:default/worker-42"}},
	{name: "prefix", in: "owner lonely", want: []string{"Did you mean lonely-tool?"}},
	{name: "wrong kind names the right one", in: "owner api:ledger", want: []string{`I found no api named \"ledger\". Did you mean component:ledger?`}},
	{name: "ambiguous", in: "owner search", want: []string{`Several entities are named \"search\"`},
		buttons: []string{"owner component:default/search", "owner group:default/search"}},
	{name: "unknown", in: "owner qqqqzzzz", want: []string{"nothing with a similar name", `search qqqqzzzz`}},
	{name: "missing owner", in: "owner orphan-job", want: []string{"names an owner that is not in the catalog", "group:default/ghost-team", "components.yaml"},
		fields: map[string]string{"Owner": "group:ghost-team (missing)"}},
	{name: "codeowners differ", in: "owner component:checkout", fields: map[string]string{"CODEOWNERS": "@acme/payments (differs from the catalog owner)"}},
	{name: "codeowners differ on api", in: "owner payments-rest", fields: map[string]string{"CODEOWNERS": "@acme/platform (differs from the catalog owner)"}},
	{name: "group", in: "owner group:payments", want: []string{"group:payments is a team"}, buttons: []string{"team group:default/payments"}},
	{name: "user", in: "owner carol", want: []string{"is a person", "Payments Team (group:payments)"}},
	{name: "no argument", in: "owner", want: []string{"Which entity?"}},
	{name: "hostile link dropped", in: "docs payments-api", not: []string{"javascript:"}},
}

func TestOwner(t *testing.T) { runCases(t, sqliteRouter(t), ownerCases) }

func TestDocs(t *testing.T) {
	runCases(t, sqliteRouter(t), []replyCase{
		{name: "techdocs and links", in: "where are the docs for payments-api?",
			want: []string{portal + "/docs/default/component/payments-api", "https://runbooks.example.com/payments-api", `"text":"Runbook"`}},
		{name: "openapi summary", in: "docs payments-rest",
			fields: map[string]string{"Definition": "OpenAPI 3.0.3 “Payments” version 2.1.0, 3 operations", "Servers": "https://api.example.com/payments"},
			want:   []string{portal + "/catalog/default/api/payments-rest/definition"},
			not:    []string{"paths"}},
		{name: "asyncapi summary", in: "docs orders-events",
			fields: map[string]string{"Definition": "AsyncAPI 3.0.0 “Orders” version 1.0.0, 2 channels", "Servers": "kafka://kafka.example.com:9092"}},
		{name: "nothing registered", in: "docs lonely-tool", want: []string{"has no TechDocs", portal + "/catalog/default/component/lonely-tool"}},
		{name: "typo", in: "docs ledgr", want: []string{"Did you mean ledger?"}},
	})
}

func TestTeam(t *testing.T) {
	runCases(t, sqliteRouter(t), []replyCase{
		{name: "team", in: "team payments",
			want: []string{`"title":"Payments Team (group:payments)"`, "component:payments-api", portal + "/catalog/default/component/ledger"},
			fields: map[string]string{
				"Members (3)": "Alice Moreau, Bob Okafor, carol", "Parent": "group:engineering",
				"Owns": "3 components, 1 API, 1 resource, 1 system", "Email": "payments@example.com",
			}},
		{name: "children", in: "team engineering", fields: map[string]string{"Children": "group:checkout, group:growth, group:payments", "Owns": "1 domain"}},
		{name: "empty team", in: "members of growth", fields: map[string]string{"Members": "none in the catalog"}},
		{name: "not a group", in: "team payments-api", want: []string{`I found no group named \"payments-api\". Did you mean one of these: component:payments-api, group:payments?`},
			buttons: []string{"team group:default/payments"}},
		{name: "group chosen over same-named component", in: "team search", fields: map[string]string{"Members (1)": "carol"}},
	})
}

func TestOncall(t *testing.T) {
	runCases(t, sqliteRouter(t), []replyCase{
		{name: "own annotation", in: "oncall payments-api", fields: map[string]string{"PagerDuty service": "PCOMP42"},
			urls: map[string]string{"PagerDuty service": "https://app.pagerduty.com/service-directory/PCOMP42"}, want: []string{"Runbook"}},
		{name: "owner's", in: "who is on call for worker-42?", fields: map[string]string{"Opsgenie team": "checkout-oncall"},
			want: []string{"names no on-call rotation itself", "Checkout Team"}},
		{name: "none known", in: "oncall lonely-tool", want: []string{"No on-call rotation is known for component:lonely-tool"}},
		{name: "integration key never shown", in: "oncall component:search", fields: map[string]string{"PagerDuty": "integration configured (see the portal page)"},
			not: []string{"s3cr3t"}},
		{name: "missing owner", in: "oncall orphan-job", want: []string{"No on-call rotation is known"}, fields: map[string]string{"Owner": "group:ghost-team (not in the catalog)"}},
	})
}

func TestDeps(t *testing.T) {
	runCases(t, sqliteRouter(t), []replyCase{
		{name: "component", in: "deps payments-api", fields: map[string]string{
			"Depends on": "component:ledger, resource:payments-db", "Provides APIs": "api:payments-rest", "Consumes APIs": "api:orders-events", "Part of": "system:payments",
		}},
		{name: "api", in: "deps payments-rest", fields: map[string]string{"Provided by": "component:payments-api", "Consumed by": "component:checkout"}},
		{name: "depended on by", in: "what depends on ledger?", fields: map[string]string{"Depended on by": "component:payments-api"}},
		{name: "nothing", in: "deps lonely-tool", want: []string{"declares no dependencies"}},
	})
}

func TestSearch(t *testing.T) {
	r := sqliteRouter(t)
	runCases(t, r, []replyCase{
		{name: "tag", in: "search pci", want: []string{"component:payments-api"}, not: []string{"component:ledger"}},
		{name: "description words", in: "search revenue reports", want: []string{"component:finance/reporting"}},
		{name: "owner", in: "search ghost-team", want: []string{"component:orphan-job"}},
		{name: "none", in: "search zebra", want: []string{"Nothing in the catalog matches"}},
		{name: "typo", in: "search ledgr", want: []string{"component:ledger", "ledgr → ledger"}},
		{name: "extra words suggest a name", in: "search ledger-svc", want: []string{"Similar names: ledger"}},
		{name: "empty", in: "search", want: []string{"Search for what?"}},
		{name: "too many words", in: "search a b c d e f g h i", want: []string{"That search has 9 words; I look for up to 8"}},
	})
	// Exact names first (kinds in listing order), then prefixes, then the rest.
	rep := ask(r, "search payments")
	var got []string
	for _, f := range rep.Fields {
		got = append(got, f.Name)
	}
	want := []string{"system:payments — Payments Platform", "group:payments", "component:payments-api — Payments API", "api:payments-rest — Payments REST API", "resource:payments-db"}
	if len(got) < len(want) || strings.Join(got[:len(want)], "|") != strings.Join(want, "|") {
		t.Errorf("Serve(search payments) results = %q, want %q first", got, want)
	}
}

func TestHelpAndUnknown(t *testing.T) {
	r := sqliteRouter(t)
	runCases(t, r, []replyCase{
		{name: "help", in: "help", want: []string{"owner <entity>", "docs <entity>", "team <group>", "oncall <entity>", "deps <entity>", "search <text>", portal}},
		{name: "help owner", in: "help owner", want: []string{`"title":"owner <entity>"`, "entity"}},
		{name: "unknown command", in: "frobnicate payments", want: []string{`I don't know \"frobnicate\"`, "owner"}},
	})
}

func TestButtonRunsCommand(t *testing.T) {
	r := sqliteRouter(t)
	rep := ask(r, "owner search")
	if len(rep.Buttons) == 0 {
		t.Fatalf("Serve(owner search) has no buttons: %s", flat(rep))
	}
	var b commands.Button
	for _, bt := range rep.Buttons {
		if bt.Value == "owner component:default/search" {
			b = bt
		}
	}
	got := r.Serve(context.Background(), &commands.Request{Action: &commands.Action{ID: b.Action, Value: b.Value}})
	if f, _ := field(got, "Owner"); f.Value != "group:search" && !strings.Contains(f.Value, "(group:search)") {
		t.Errorf("pressing %+v: Owner = %q, want group:search", b, f.Value)
	}
}

// unavailableStore fails every call the way a store does when its database
// is down.
type unavailableStore struct {
	catalog.Store
	failEntity bool
}

func (s unavailableStore) Generation(ctx context.Context) (int64, error) {
	if s.failEntity {
		return s.Store.Generation(ctx)
	}
	return 0, fmt.Errorf("generation: %w", catalog.ErrUnavailable)
}

func (s unavailableStore) Entity(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	return nil, fmt.Errorf("entity: dial tcp: connection refused: %w", catalog.ErrUnavailable)
}

func (s unavailableStore) Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	return nil, fmt.Errorf("entities: dial tcp: connection refused: %w", catalog.ErrUnavailable)
}

func TestUnavailable(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixtures(t, st)
	for _, tt := range []struct {
		name string
		st   catalog.Store
	}{
		{"index", unavailableStore{Store: st}},
		{"entity", unavailableStore{Store: st, failEntity: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := commands.New(commands.Params{Store: tt.st, PortalURL: portal})
			for _, in := range []string{"owner payments-api", "docs payments-api", "team payments", "oncall payments-api", "deps payments-api"} {
				if got := ask(r, in).Text; !strings.Contains(got, "temporarily unavailable") {
					t.Errorf("Serve(%q) = %q, want the catalog-unavailable message", in, got)
				}
			}
		})
	}
}

func TestPostgres(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	loadFixtures(t, st)
	r := newRouter(t, st)
	runCases(t, r, ownerCases)
	runCases(t, r, []replyCase{
		{name: "docs api", in: "docs payments-rest", fields: map[string]string{"Definition": "OpenAPI 3.0.3 “Payments” version 2.1.0, 3 operations"}},
		{name: "team", in: "team payments", fields: map[string]string{"Members (3)": "Alice Moreau, Bob Okafor, carol"}},
	})
}
