package sqlstore

import (
	"context"

	"github.com/portalbot/portalbot/catalog"
)

// relationsToStore returns the relations to store for e: those its spec
// implies (catalog.DeriveRelations, never e.Relations as a descriptor
// wrote them) or, for an entity a Backstage API served
// (Entity.ServedRelations), the relations Backstage served, each with e as
// its source. Served relations are stored as forward rows without an
// inverse type, so that reads return exactly what Backstage served for a
// portal entity: Backstage serves the inverse on the target itself.
func relationsToStore(e *catalog.Entity) []catalog.Relation {
	if !e.ServedRelations {
		return catalog.DeriveRelations(e)
	}
	self := e.Ref()
	out := make([]catalog.Relation, 0, len(e.Relations))
	for _, r := range e.Relations {
		if r.Type == "" {
			continue
		}
		target := r.TargetRef
		if target == "" {
			target = r.Target.String()
		}
		if target == "" || target == ":/" {
			continue
		}
		out = append(out, catalog.Relation{Type: r.Type, Source: self, Target: splitRef(target), TargetRef: target})
	}
	return out
}

// Etags returns the etag of every entity that source holds, by canonical
// ref, so that a sync from a Backstage API can tell which entities changed
// without fetching them. A source never synced has none.
func (s *Store) Etags(ctx context.Context, source string) (map[string]string, error) {
	rows, err := s.db.QueryxContext(ctx, s.db.Rebind("SELECT ref, etag FROM entities WHERE source = ?"), source)
	if err != nil {
		return nil, s.wrap("etags "+source, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ref, etag string
		if err := rows.Scan(&ref, &etag); err != nil {
			return nil, s.wrap("etags "+source, err)
		}
		out[ref] = etag
	}
	return out, s.wrap("etags "+source, rows.Err())
}
