package catalog

import (
	"slices"
	"strings"
)

// Relation types, as Backstage names them. Each has an inverse.
const (
	RelOwnedBy       = "ownedBy"
	RelOwnerOf       = "ownerOf"
	RelPartOf        = "partOf"
	RelHasPart       = "hasPart"
	RelDependsOn     = "dependsOn"
	RelDependencyOf  = "dependencyOf"
	RelProvidesAPI   = "providesApi"
	RelAPIProvidedBy = "apiProvidedBy"
	RelConsumesAPI   = "consumesApi"
	RelAPIConsumedBy = "apiConsumedBy"
	RelMemberOf      = "memberOf"
	RelHasMember     = "hasMember"
	RelParentOf      = "parentOf"
	RelChildOf       = "childOf"
)

// Relation is a typed, directed edge between two entities.
type Relation struct {
	Type   string `json:"type" yaml:"type"`
	Source Ref    `json:"-" yaml:"-"`
	Target Ref    `json:"-" yaml:"-"`
	// TargetRef is Target.String(), the form Backstage's API returns.
	TargetRef string `json:"targetRef" yaml:"targetRef"`
}

// DeriveRelations returns every relation e's spec implies, as Backstage's
// default catalog emits them: BuiltinKindsEntityProcessor
// (@backstage/plugin-catalog-backend, used unless an alpha catalog model is
// installed through catalogModelExtensionPoint) for the core kinds, the
// scaffolder's ScaffolderEntitiesProcessor for Template owners. Each
// reference makes the forward edge with Source e and its inverse with the
// target as Source, whatever the target's kind: a Component's consumesApis
// naming a Component makes both consumesApi and apiConsumedBy, an owner
// that is a System both ownedBy and ownerOf. References without a namespace
// take e's namespace, those without a kind the field's default kind (owner
// → Group, system → System, ...). References that do not parse are skipped
// (Validate reports them), as are unknown kinds and fields that create no
// relation. AiResource exists only in the alpha model
// (aiResourceEntityModel), so its fields follow that model: a reference to
// a kind the field does not allow makes no relation. Targets need not
// exist, and owners that are not valid names are kept as written
// (web@example.com becomes group:default/web@example.com). The result has
// no duplicates and keeps the order of the spec fields.
func DeriveRelations(e *Entity) []Relation {
	ks, ok := kinds[e.Kind]
	if !ok || e.Spec == nil {
		return nil
	}
	self := e.Ref()
	selfS := self.String()
	// Each reference makes at most two relations: sized once, as a sync
	// derives them for every entity (issue 19: growing these slices was a
	// tenth of a sync's allocations).
	n := 0
	fields := ks.refsFor(e.Spec)
	for _, rf := range fields {
		n += 2 * refCount(e.Spec, rf)
	}
	if n == 0 {
		return nil
	}
	out := make([]Relation, 0, n)
	// keys are the relations in out by type, source and target text: a
	// handful per entity, compared in place rather than hashed.
	type key struct{ typ, src, dst string }
	var buf [16]key // on the stack: most entities make fewer relations
	keys := buf[:0]
	if n > len(buf) {
		keys = make([]key, 0, n)
	}
	add := func(typ string, src Ref, srcS string, dst Ref, dstS string) {
		k := key{typ, srcS, dstS}
		if slices.Contains(keys, k) {
			return
		}
		keys = append(keys, k)
		out = append(out, Relation{Type: typ, Source: src, Target: dst, TargetRef: dstS})
	}
	for _, rf := range fields {
		for _, s := range refValues(e.Spec, rf) {
			target, err := ParseRef(s, rf.defaultKind, self.Namespace)
			if err != nil {
				continue
			}
			if rf.allowed != nil && !containsFold(rf.allowed, target.Kind) {
				continue
			}
			targetS := target.String()
			add(rf.rel, self, selfS, target, targetS)
			add(rf.inv, target, targetS, self, selfS)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Inverse returns the inverse of a relation type, and "" for a type that
// is not one of Backstage's built-in relations.
func Inverse(typ string) string {
	return inverses[typ]
}

var inverses = map[string]string{
	RelOwnedBy: RelOwnerOf, RelOwnerOf: RelOwnedBy,
	RelPartOf: RelHasPart, RelHasPart: RelPartOf,
	RelDependsOn: RelDependencyOf, RelDependencyOf: RelDependsOn,
	RelProvidesAPI: RelAPIProvidedBy, RelAPIProvidedBy: RelProvidesAPI,
	RelConsumesAPI: RelAPIConsumedBy, RelAPIConsumedBy: RelConsumesAPI,
	RelMemberOf: RelHasMember, RelHasMember: RelMemberOf,
	RelParentOf: RelChildOf, RelChildOf: RelParentOf,
}
