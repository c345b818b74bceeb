package commands

import "github.com/portalbot/portalbot/catalog"

// orphanWarning is the warning field of answers about an entity that
// Backstage marks orphaned: the backstage.io/orphan annotation is "true"
// once no location emits the entity any more (it was removed from its
// descriptor or its location was unregistered), so what it says may be
// out of date. Only entities mirrored from a Backstage API carry it.
var orphanWarning = Field{Name: "Warning", Value: "orphaned in Backstage (backstage.io/orphan): no registered location defines it any more, so this may be out of date"}

// withOrphanWarning puts orphanWarning first in rep when ent is orphaned.
func withOrphanWarning(ent *catalog.Entity, rep Reply) Reply {
	if ent.Metadata.Annotations[catalog.AnnotationOrphan] != "true" {
		return rep
	}
	rep.Fields = append([]Field{orphanWarning}, rep.Fields...)
	return rep
}
