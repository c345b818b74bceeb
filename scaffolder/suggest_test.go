package scaffolder_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
	"github.com/portalbot/portalbot/scaffolder"
)

// listingStore counts the times the whole catalog is listed.
type listingStore struct {
	*sqlstore.Store
	listed atomic.Int64
}

func (s *listingStore) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	s.listed.Add(1)
	return s.Store.Summaries(ctx)
}

// TestPickersReadTheView types into an owner picker keystroke by keystroke:
// the options come from the catalog view the commands read, so typing
// lists the catalog at most once (it listed it on every keystroke before).
func TestPickersReadTheView(t *testing.T) {
	ctx := context.Background()
	st := &listingStore{Store: newStore(t)}
	v := view.New(view.Params{Store: st})
	svc := scaffolder.New(scaffolder.Params{
		Store:    st,
		View:     v,
		Launcher: scaffolder.NewBackstage("http://127.0.0.1:1", "test-token", nil, slog.New(slog.DiscardHandler)),
	})
	t.Cleanup(svc.Close)
	r := commands.New(commands.Params{Store: st, View: v, PortalURL: testPortal, Templates: svc})
	if got := r.Suggest(ctx, "entity", "team-a", 10); len(got) != 1 {
		t.Fatalf(`Suggest(entity, "team-a") = %+v, want team-a`, got)
	}
	var last []commands.Option
	for _, typed := range []string{"t", "te", "tea", "team", "team-", "team-b"} {
		last = r.Suggest(ctx, "template.entities:group+user", typed, 10)
	}
	if len(last) != 1 || last[0].Value != "group:default/team-b" {
		t.Errorf(`owner picker after typing "team-b" = %+v, want group:default/team-b`, last)
	}
	if n := st.listed.Load(); n != 1 {
		t.Errorf("the catalog was listed %d times for a command and six keystrokes, want once (one snapshot shared by commands and pickers)", n)
	}
}
