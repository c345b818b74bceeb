package sqlstore_test

import (
	"context"
	"encoding/json"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
)

// snapshot is everything a store answers about its catalog, in a form that
// compares across dialects.
type snapshot struct {
	Entities  map[string]string // ref -> JSON of the entity with origin and relations
	Relations map[string][]string
	Counts    map[string]int
	Errors    []catalog.ProcessingError
}

func takeSnapshot(t *testing.T, st catalog.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	es, err := st.Entities(ctx, catalog.Query{WithDefinitions: true})
	if err != nil {
		t.Fatalf("Entities: %v", err)
	}
	snap := snapshot{Entities: map[string]string{}, Relations: map[string][]string{}}
	for _, e := range es {
		b, err := json.Marshal(struct {
			E *catalog.Entity
			O catalog.Origin
		}{e, e.Origin})
		if err != nil {
			t.Fatal(err)
		}
		snap.Entities[e.Ref().String()] = string(b)
	}
	for _, typ := range []string{catalog.RelOwnedBy, catalog.RelOwnerOf, catalog.RelPartOf, catalog.RelHasPart,
		catalog.RelDependsOn, catalog.RelDependencyOf, catalog.RelProvidesAPI, catalog.RelAPIProvidedBy,
		catalog.RelConsumesAPI, catalog.RelAPIConsumedBy, catalog.RelMemberOf, catalog.RelHasMember,
		catalog.RelParentOf, catalog.RelChildOf} {
		rels, err := st.RelationsOfType(ctx, typ)
		if err != nil {
			t.Fatalf("RelationsOfType(%s): %v", typ, err)
		}
		for _, r := range rels {
			snap.Relations[typ] = append(snap.Relations[typ], r.Source.String()+" -> "+r.TargetRef)
		}
	}
	if snap.Counts, err = st.Counts(ctx); err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if snap.Errors, err = st.ProcessingErrors(ctx, ""); err != nil {
		t.Fatalf("ProcessingErrors: %v", err)
	}
	return snap
}

// TestDialectsAgree loads the same descriptor files, good and broken, into
// SQLite and Postgres and compares everything the stores answer.
func TestDialectsAgree(t *testing.T) {
	lite, pg := sqlstoretest.OpenSQLite(t), sqlstoretest.OpenPostgres(t)
	for _, st := range []catalog.Store{lite, pg} {
		catalogtest.LoadDir(t, st, "valid", "../testdata/valid")
		catalogtest.LoadDir(t, st, "broken", "../testdata/broken")
	}
	a, b := takeSnapshot(t, lite), takeSnapshot(t, pg)
	if len(a.Entities) == 0 || len(a.Relations) == 0 || len(a.Errors) == 0 {
		t.Fatalf("fixtures gave %d entities, %d relation types, %d errors; want some of each", len(a.Entities), len(a.Relations), len(a.Errors))
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("SQLite and Postgres disagree (-sqlite +postgres):\n%s", diff)
	}
}
