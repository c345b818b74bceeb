package commands_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/commands"
)

// BenchmarkPreviewAndHome measures a link preview (a different service
// each time) and a Home page (a different user each time: the team, what
// it owns) against the 100,000-entity catalog on SQLite, after the index
// and the email map are built. Run with:
//
//	go test ./commands -run '^$' -bench PreviewAndHome -benchtime 500x
func BenchmarkPreviewAndHome(b *testing.B) {
	st := sqlstoretest.OpenSQLite(b)
	largeCatalog(b, st)
	r := commands.New(commands.Params{Store: st, PortalURL: portal})
	ctx := context.Background()
	req := &commands.Request{Platform: commands.PlatformSlack, UserID: "U1"}
	// The first command builds the index, which can take longer than a
	// preview's own time limit on a loaded machine.
	r.Serve(ctx, &commands.Request{Text: "owner service-00001"})
	if _, ok := r.Preview(ctx, req, portal+"/catalog/default/component/service-00001"); !ok {
		b.Fatal("warm-up preview failed")
	}
	if rep := r.Home(ctx, &commands.Request{UserEmail: "user-00001@example.com"}); rep.Title != "Hello, User 1" {
		b.Fatalf("warm-up home = %+v", rep)
	}
	b.Run("preview", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := r.Preview(ctx, req, fmt.Sprintf("%s/catalog/default/component/service-%05d", portal, i%benchComponents)); !ok {
				b.Fatal("preview failed")
			}
			i += 7919
		}
	})
	b.Run("home", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			rep := r.Home(ctx, &commands.Request{UserEmail: fmt.Sprintf("user-%05d@example.com", i%benchUsers)})
			if !strings.HasPrefix(rep.Title, "Hello, ") || len(rep.Sections) == 0 {
				b.Fatalf("home = %+v", rep)
			}
			i += 7919
		}
	})
}
