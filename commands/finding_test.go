package commands_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot/demo"
	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/commands"
)

// loadDemo applies the demo catalog (Acme Shop, what `portalbot demo`
// loads) to st as one full sync: the root Location's targets, each parsed.
func loadDemo(tb testing.TB, st catalog.Store) {
	tb.Helper()
	fsys := demo.FS()
	parse := func(p string) []*catalog.Entity {
		f, err := fsys.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		defer f.Close()
		ents, errs := catalog.Parse(f, p)
		if len(errs) > 0 {
			tb.Fatalf("demo %s: %v", p, errs)
		}
		return ents
	}
	const root = "catalog-info.yaml"
	files := []catalog.FileResult{{Path: root, Entities: parse(root)}}
	targets, _ := files[0].Entities[0].Spec["targets"].([]any)
	if len(targets) == 0 {
		tb.Fatalf("demo %s: no targets", root)
	}
	for _, t := range targets {
		p := path.Clean(strings.TrimPrefix(t.(string), "./"))
		files = append(files, catalog.FileResult{Path: p, Entities: parse(p)})
	}
	co, err := fs.ReadFile(fsys, "CODEOWNERS")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "acme-shop/catalog", Repo: "demo", Commit: "d3m0", Status: "ok", CodeOwners: string(co)},
		Full:   true, Files: files,
	}); err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
}

// TestSearchTypos runs searches with misspelt words on the demo catalog: a
// word one or two edits from a name, title, description word, tag or owner
// finds the entity when nothing matches as typed, and the reply says which
// words it took instead.
func TestSearchTypos(t *testing.T) {
	for dialect, open := range sqlstoretest.Stores() {
		t.Run(dialect, func(t *testing.T) {
			st := open(t)
			loadDemo(t, st)
			r := commands.New(commands.Params{Store: st, PortalURL: portal})
			runCases(t, r, []replyCase{
				{name: "name word", in: "search frued", want: []string{"component:fraud-detector — Fraud Detector", "fraud"}},
				{name: "name", in: "search ledgr", want: []string{"component:ledger-service", "ledger"}},
				{name: "whole name", in: "search fraud-detectr", want: []string{"component:fraud-detector"}},
				{name: "title word", in: "search catalouge", want: []string{"component:product-catalog"}},
				{name: "description word", in: "search paymnet risk", want: []string{"component:fraud-detector"}, not: []string{"component:checkout"}},
				{name: "tag", in: "search pyhton", want: []string{"component:fraud-detector"}},
				{name: "one exact one typo", in: "search fraud detectr", want: []string{"component:fraud-detector"}},
				{name: "exact still wins", in: "search fraud", want: []string{"component:fraud-detector"}, not: []string{"near what you typed"}},
				{name: "short words are not guessed", in: "search apj", want: []string{"Nothing in the catalog matches"}},
				{name: "nothing near", in: "search qqqqzzzz", want: []string{"Nothing in the catalog matches"}},
			})
		})
	}
}

// TestPlurals checks counted nouns in replies: "3 matches", "2 APIs".
func TestPlurals(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadDemo(t, st)
	r := commands.New(commands.Params{Store: st, PortalURL: portal})
	runCases(t, r, []replyCase{
		{name: "matches", in: "search fraud", want: []string{` matches for \"fraud\"`}, not: []string{"matchs"}},
		{name: "kinds", in: "team payments", want: []string{" APIs"}, not: []string{" apis", " aPIs"}},
	})
}

// TestTitlesAndPhrasing resolves entities by their title and by questions
// in everyday words, on the demo catalog.
func TestTitlesAndPhrasing(t *testing.T) {
	for dialect, open := range sqlstoretest.Stores() {
		t.Run(dialect, func(t *testing.T) {
			st := open(t)
			loadDemo(t, st)
			r := commands.New(commands.Params{Store: st, PortalURL: portal})
			runCases(t, r, []replyCase{
				{name: "question with title", in: "who owns the payments api?", want: []string{`"title":"payments-api is owned by`}},
				{name: "title, any case", in: "owner Fraud Detector", want: []string{`"title":"fraud-detector is owned by`}},
				{name: "one-word title", in: "where are the docs for the ledger?", want: []string{portal + "/catalog/default/component/ledger-service"}},
				{name: "longer title", in: "who owns the Payments REST API", want: []string{`"title":"payments-rest is owned by`}},
				{name: "words of a name", in: "who owns fraud detector", want: []string{`"title":"fraud-detector is owned by`}},
				{name: "maintains", in: "who maintains the product catalogue?", want: []string{`"title":"product-catalog is owned by`}},
				{name: "responsible", in: "which team is responsible for fraud-detector?", want: []string{`"title":"fraud-detector is owned by`}},
				{name: "title of a team", in: "team Payments Team", not: []string{"not an entity name"}},
				{name: "words that name nothing", in: "who owns the moon base", want: []string{"search moon base"}},
			})
		})
	}
}

// TestSuggestNearest checks that the names offered after a miss include
// the nearest, not only names that extend what was typed: among
// svc-000000 … svc-001999, "svc-00009" is one inserted digit from
// svc-000009, as it is from svc-000090 … svc-000099.
func TestSuggestNearest(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	var ents []*catalog.Entity
	for i := range 2000 {
		e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: catalog.KindComponent,
			Metadata: catalog.Metadata{Name: fmt.Sprintf("svc-%06d", i), Namespace: "default"},
			Spec:     map[string]any{"type": "service", "lifecycle": "production", "owner": "team-a"}}
		e.Relations = catalog.DeriveRelations(e)
		if err := e.Stamp(); err != nil {
			t.Fatal(err)
		}
		ents = append(ents, e)
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "gen/catalog", Repo: "gen", Commit: "g1", Status: "ok"},
		Full:   true, Files: []catalog.FileResult{{Path: "all.yaml", Entities: ents}},
	}); err != nil {
		t.Fatal(err)
	}
	r := commands.New(commands.Params{Store: st, PortalURL: portal})
	runCases(t, r, []replyCase{
		{name: "padding", in: "owner svc-00009", want: []string{"Did you mean one of these: svc-000009,"}, buttons: []string{"owner component:default/svc-000009"}},
		{name: "padding, other way", in: "owner svc-0000009", want: []string{"Did you mean one of these: svc-000009,"}},
		{name: "substitution", in: "owner svc-000a09", buttons: []string{"owner component:default/svc-000009"}},
		{name: "still extends", in: "owner svc-00019", want: []string{"svc-000190"}},
	})
}
