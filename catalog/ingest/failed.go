package ingest

import (
	"context"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// settle finishes fr, whose Errors are p's problems and whose Entities are
// p's valid entities, for the store. Backstage processes each entity of a
// file on its own, so unless the file as a whole could not be read
// (p.fatal), its problems become Warnings: the file's valid entities are
// written and the problems recorded. Each entity in failed (a document
// that did not validate or resolve, a Location with a missing target)
// keeps its last good version from an earlier sync of the same file, as
// Backstage keeps an entity's last processed state when processing fails;
// a failed entity never synced before is not stored.
func (d *discovery) settle(ctx context.Context, p parsed, fr *catalog.FileResult, failed []catalog.Ref) {
	if p.fatal {
		return // the store keeps the file's last good entities
	}
	fr.Warnings = append(fr.Warnings, fr.Errors...)
	fr.Errors = nil
	if len(failed) == 0 {
		return
	}
	if d.prev != nil {
		if _, synced := d.prev.Files[fr.Path]; !synced {
			return // a new file: nothing stored to keep
		}
	}
	// Without a state the store is asked all the same: a fresh process
	// must not lose what a file it never saw good defined (issue 14).
	old, err := d.s.store.Entities(ctx, catalog.Query{Refs: failed, WithDefinitions: true})
	if err != nil {
		// Without the last good versions the file cannot be written
		// safely: block it, so the store keeps all of its entities.
		fr.Errors = append(fr.Errors, catalog.ProcessingError{Source: d.own.name, Path: fr.Path,
			Message: "read last good entities: " + err.Error()})
		return
	}
	for _, e := range old {
		if e.Origin.Source != d.own.name || e.Origin.Path != fr.Path {
			continue // held by another file or source: not this file's to keep
		}
		e.Relations = catalog.DeriveRelations(e)
		fr.Entities = append(fr.Entities, e)
	}
}

// failedRefs returns the refs of raw (a file parsed before placeholder
// resolution) that did not come out valid after resolution: its failed
// documents, and those whose placeholders failed.
func failedRefs(raw catalog.ParseResult, resolved []*catalog.Entity) []catalog.Ref {
	ok := make(map[string]bool, len(resolved))
	for _, e := range resolved {
		ok[strings.ToLower(e.Ref().String())] = true
	}
	out := raw.Failed
	for _, e := range raw.Entities {
		if !ok[strings.ToLower(e.Ref().String())] {
			out = append(out, e.Ref())
		}
	}
	return out
}
