package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// TestSyncState saves and reads a source's sync state on both dialects: a
// state is kept only for the source's stored commit, so a replica that
// saves late cannot replace the state of a sync committed after its own.
func TestSyncState(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			if _, _, err := st.SyncState(ctx, "acme"); !errors.Is(err, catalog.ErrNotFound) {
				t.Fatalf("SyncState(never synced) error = %v, want ErrNotFound", err)
			}
			apply := func(commit string) {
				t.Helper()
				if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "acme", Commit: commit}, Full: true}); err != nil {
					t.Fatalf("ApplySync(%s): %v", commit, err)
				}
			}
			want := func(commit string, state []byte) {
				t.Helper()
				c, s, err := st.SyncState(ctx, "acme")
				if err != nil || c != commit || !bytes.Equal(s, state) {
					t.Errorf("SyncState = %q, %d bytes, %v; want %q, %d bytes", c, len(s), err, commit, len(state))
				}
			}
			// Every byte value, and more than one page, round-trips.
			one := bytes.Repeat([]byte{0, 1, 0xff, '\'', '\\', 0x80}, 200000)
			if err := st.SaveSyncState(ctx, "acme", "c1", one); err != nil {
				t.Fatalf("SaveSyncState(before any sync): %v", err)
			}
			if _, _, err := st.SyncState(ctx, "acme"); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("SyncState after saving for a commit never stored: err = %v, want ErrNotFound", err)
			}
			apply("c1")
			if err := st.SaveSyncState(ctx, "acme", "c1", one); err != nil {
				t.Fatalf("SaveSyncState(c1): %v", err)
			}
			want("c1", one)
			apply("c2")
			// Saved late by a replica whose sync of c1 finished first.
			if err := st.SaveSyncState(ctx, "acme", "c1", []byte("late")); err != nil {
				t.Fatalf("SaveSyncState(c1, late): %v", err)
			}
			want("c1", one)
			if err := st.SaveSyncState(ctx, "acme", "c2", []byte("two")); err != nil {
				t.Fatalf("SaveSyncState(c2): %v", err)
			}
			want("c2", []byte("two"))
		})
	}
}
