package catalog

import "strings"

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
// ModelProcessor (@backstage/plugin-catalog-backend) emits them: the
// forward edge with Source e for each reference, and its inverse with the
// target as Source only when the catalog model declares that relation pair
// between the two kinds (a Component's consumesApis naming a Component
// makes consumesApi but no apiConsumedBy). References without a namespace
// take e's namespace, those without a kind the field's default kind (owner
// → Group, system → System, ...). References that do not parse are skipped
// (Validate reports them), as are references to a kind the field does not
// allow (an owner that is not a Group or User), unknown kinds and fields
// that create no relation. Targets need not exist, and owners that are not
// valid names are kept as written (web@example.com becomes
// group:default/web@example.com). The result has no duplicates and keeps
// the order of the spec fields.
func DeriveRelations(e *Entity) []Relation {
	ks, ok := kinds[e.Kind]
	if !ok || e.Spec == nil {
		return nil
	}
	self := e.Ref()
	var out []Relation
	seen := make(map[string]bool)
	add := func(typ string, src, dst Ref) {
		key := typ + " " + src.String() + " " + dst.String()
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, Relation{Type: typ, Source: src, Target: dst, TargetRef: dst.String()})
	}
	for _, rf := range ks.refsFor(e.Spec) {
		for _, s := range refValues(e.Spec, rf) {
			target, err := ParseRef(s, rf.defaultKind, self.Namespace)
			if err != nil {
				continue
			}
			if rf.allowed != nil && !containsFold(rf.allowed, target.Kind) {
				continue
			}
			add(rf.rel, self, target)
			if hasInverse(e.Kind, rf.rel, target.Kind) {
				add(rf.inv, target, self)
			}
		}
	}
	return out
}

// pairs lists, per source kind and forward relation type, the target kinds
// for which the catalog model declares the relation pair, and so emits the
// inverse. It is @backstage/catalog-model's wellKnownRelationsModel
// (kinds/relations) plus the AiResource layer's updateRelationPair calls,
// compiled per kind (each pair also holds read backwards: Component
// hasPart → Component, API, Resource because partOf goes from those kinds
// to Component).
var pairs = map[string]map[string][]string{
	KindComponent: {
		RelOwnedBy: ownerKinds, RelProvidesAPI: {KindAPI}, RelConsumesAPI: {KindAPI},
		RelDependsOn: {KindComponent, KindResource}, RelDependencyOf: {KindComponent, KindResource},
		RelPartOf: {KindComponent, KindSystem}, RelHasPart: {KindComponent, KindAPI, KindResource},
	},
	KindAPI: {
		RelOwnedBy: ownerKinds, RelAPIProvidedBy: {KindComponent}, RelAPIConsumedBy: {KindComponent},
		RelPartOf: {KindComponent, KindSystem},
	},
	KindResource: {
		RelOwnedBy: ownerKinds, RelDependsOn: {KindComponent, KindResource}, RelDependencyOf: {KindComponent, KindResource},
		RelPartOf: {KindComponent, KindSystem},
	},
	KindSystem: {
		RelOwnedBy: ownerKinds, RelPartOf: {KindDomain},
		RelHasPart: {KindComponent, KindAPI, KindResource, KindAiResource},
	},
	KindDomain: {RelOwnedBy: ownerKinds, RelPartOf: {KindDomain}, RelHasPart: {KindSystem, KindDomain}},
	KindGroup: {
		RelOwnedBy: ownerKinds, RelParentOf: {KindGroup}, RelChildOf: {KindGroup}, RelHasMember: {KindUser},
	},
	KindUser:     {RelOwnedBy: ownerKinds, RelMemberOf: {KindGroup}},
	KindLocation: {RelOwnedBy: ownerKinds},
	KindAiResource: {
		RelOwnedBy: ownerKinds, RelDependsOn: {KindAiResource}, RelDependencyOf: {KindAiResource},
		RelPartOf: {KindSystem, KindAiResource}, RelHasPart: {KindAiResource},
	},
}

// hasInverse reports whether Backstage emits the inverse of a relation of
// type rel from an entity of kind from to one of kind to. Template is not
// in the catalog model: the scaffolder's own processor always emits both
// directions of its owner relation.
func hasInverse(from, rel, to string) bool {
	if from == KindTemplate {
		return true
	}
	return containsFold(pairs[from][rel], to)
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
