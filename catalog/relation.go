package catalog

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
