package commands_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/commands"
)

// Size of the benchmark catalog: 100,000 entities.
const (
	benchGroups     = 1000
	benchUsers      = 4000
	benchSystems    = 1000
	benchComponents = 100000 - benchGroups - benchUsers - benchSystems
)

// largeCatalog writes a synthetic 100,000-entity catalog straight into st
// with ApplySync, one file per 1,000 entities.
func largeCatalog(tb testing.TB, st catalog.Store) {
	tb.Helper()
	var ents []*catalog.Entity
	add := func(kind, name string, spec map[string]any, md func(*catalog.Metadata)) {
		e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: kind, Metadata: catalog.Metadata{Name: name, Namespace: "default"}, Spec: spec}
		if md != nil {
			md(&e.Metadata)
		}
		e.Relations = catalog.DeriveRelations(e)
		if err := e.Stamp(); err != nil {
			tb.Fatal(err)
		}
		ents = append(ents, e)
	}
	for i := range benchGroups {
		add(catalog.KindGroup, fmt.Sprintf("team-%04d", i), map[string]any{
			"type": "team", "children": []any{},
			"profile": map[string]any{"displayName": fmt.Sprintf("Team %d", i), "email": fmt.Sprintf("team-%d@example.com", i)},
		}, func(m *catalog.Metadata) {
			m.Annotations = map[string]string{"portalbot.io/slack-channel": fmt.Sprintf("team-%d", i)}
		})
	}
	for i := range benchUsers {
		add(catalog.KindUser, fmt.Sprintf("user-%05d", i), map[string]any{
			"memberOf": []any{fmt.Sprintf("team-%04d", i%benchGroups)},
			"profile":  map[string]any{"displayName": fmt.Sprintf("User %d", i), "email": fmt.Sprintf("user-%05d@example.com", i)},
		}, nil)
	}
	for i := range benchSystems {
		add(catalog.KindSystem, fmt.Sprintf("system-%04d", i), map[string]any{"owner": fmt.Sprintf("team-%04d", i%benchGroups)}, nil)
	}
	for i := range benchComponents {
		add(catalog.KindComponent, fmt.Sprintf("service-%05d", i), map[string]any{
			"type": "service", "lifecycle": "production",
			"owner":     fmt.Sprintf("team-%04d", i%benchGroups),
			"system":    fmt.Sprintf("system-%04d", i%benchSystems),
			"dependsOn": []any{fmt.Sprintf("component:service-%05d", (i+1)%benchComponents)},
		}, func(m *catalog.Metadata) {
			m.Description = "Synthetic service number " + fmt.Sprint(i)
			m.Tags = []string{"go", fmt.Sprintf("tier-%d", i%3)}
			m.Annotations = map[string]string{catalog.AnnotationSourceLocation: "url:https://git.example.com/acme/service-" + fmt.Sprint(i)}
		})
	}
	var files []catalog.FileResult
	for i := 0; i < len(ents); i += 1000 {
		files = append(files, catalog.FileResult{Path: fmt.Sprintf("catalog/part-%03d.yaml", i/1000), Entities: ents[i:min(i+1000, len(ents))]})
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "bench/catalog", Repo: "bench", Commit: "b1", Status: "ok", CodeOwners: "* @acme/team-0000\n"},
		Full:   true, Files: files,
	}); err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
}

// BenchmarkOwner measures one "owner <service>" command against a
// 100,000-entity catalog, after the index is built (it is rebuilt only when
// a sync changes the catalog): a different service each time (one point
// lookup; its team, members and system come from the cache), the same one
// again (no query), a typo, a search, and searches that match only with
// typos corrected. Run with:
//
//	go test ./commands -run '^$' -bench Owner -benchtime 2000x
func BenchmarkOwner(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			st := sqlstoretest.Stores()[dialect](b)
			largeCatalog(b, st)
			r := commands.New(commands.Params{Store: st, PortalURL: portal})
			ctx := context.Background()
			warm := r.Serve(ctx, &commands.Request{Text: "owner service-00001"})
			if !strings.Contains(warm.Title, "is owned by Team 1") {
				b.Fatalf("warm-up answer = %+v", warm)
			}
			for _, bc := range []struct{ name, text string }{
				{"hit", "owner service-%05d"},
				{"hot", "owner service-00042"}, // the same entity again: from the cache
				{"typo", "owner servce-%05d"},
				{"search", "search service-%03d"},
				{"search-typo", "search servce-%05d"},         // nothing as typed: near names
				{"search-typo-word", "search synthetc numbr"}, // near words of every description
			} {
				b.Run(bc.name, func(b *testing.B) {
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						text := bc.text
						if strings.Contains(text, "%") {
							text = fmt.Sprintf(text, i%benchComponents)
						}
						rep := r.Serve(ctx, &commands.Request{Text: text})
						if rep.Title == "" && rep.Text == "" {
							b.Fatalf("empty reply")
						}
						i += 7919
					}
				})
			}
		})
	}
}

// BenchmarkLongQuery measures commands given long inputs against the
// 100,000-entity catalog: over the limit (refused before anything reads
// them) and just under it (read and answered). Run with:
//
//	go test ./commands -run '^$' -bench LongQuery -benchtime 20x
func BenchmarkLongQuery(b *testing.B) {
	st := sqlstoretest.OpenSQLite(b)
	largeCatalog(b, st)
	r := commands.New(commands.Params{Store: st, PortalURL: portal})
	ctx := context.Background()
	r.Serve(ctx, &commands.Request{Text: "owner service-00001"})
	for _, bc := range []struct{ name, text string }{
		{"search-token-20k", "search " + strings.Repeat("q", 20000)},
		{"search-token-100k", "search " + strings.Repeat("q", 100000)},
		{"search-unicode-20k", "search " + strings.Repeat("é日", 10000)},
		{"owner-words-20k", "who owns " + strings.Repeat("service ", 2500)},
		{"search-token-990", "search " + strings.Repeat("q", 990)},
		{"search-name-990", "search " + strings.Repeat("service-00001-", 70)},
		{"search-unicode-990", "search " + strings.Repeat("é日", 495)},
		{"owner-990", "owner " + strings.Repeat("service-", 120)},
		// Eight words, none found as typed: each is corrected against
		// every index.
		{"search-8-typos", "search frued ledgr paymnt servce synthetc numbr sytem tema"},
		{"search-8-typos-long", "search " + strings.TrimSpace(strings.Repeat(strings.Repeat("q", 40)+" ", 8))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rep := r.Serve(ctx, &commands.Request{Text: bc.text}); rep.Text == "" {
					b.Fatalf("Serve(%.40q…) = %+v, want a text", bc.text, rep)
				}
			}
		})
	}
}
