// Package drift finds ownership drift in the catalog: owners that do not
// exist, owner groups with nobody in them, CODEOWNERS files that disagree
// with spec.owner, and owners that changed since the last report.
//
// Rules run over a Snapshot, loaded with a handful of bulk queries, so
// computing a report never issues one query per entity.
//
// It reads the catalog through its Reader (catalog.Store satisfies it) and
// never imports catalog/sqlstore; it knows no chat platform: commands and
// bot render its findings.
package drift

import (
	"fmt"
	"strings"
	"time"
)

// Rule names, as they appear in Finding.Drift, JSON output and the
// reports.targets[].rules filter.
const (
	RuleUnknownOwner       = "unknown-owner"
	RuleOwnerEmptyGroup    = "owner-empty-group"
	RuleCodeOwnersMismatch = "codeowners-mismatch"
	RuleOwnerChanged       = "owner-changed"
)

// ruleOrder is the order of rules in counts and summaries, most serious
// first.
var ruleOrder = []string{RuleUnknownOwner, RuleOwnerEmptyGroup, RuleCodeOwnersMismatch, RuleActivityOwnerMismatch, RuleOwnerChanged}

// A Rule finds one kind of drift. Check must only read the snapshot, which
// it shares with other rules, and may run concurrently with them.
type Rule interface {
	// Name is the rule's stable, lower-case name (Finding.Drift).
	Name() string
	// Check returns the rule's findings, in any order.
	Check(s *Snapshot) []Finding
}

// DefaultRules returns every built-in rule, most serious first.
func DefaultRules() []Rule {
	return []Rule{unknownOwner{}, ownerEmptyGroup{}, codeOwnersMismatch{}, activityOwnerMismatch{}, ownerChanged{}}
}

// RuleNames returns the names of rules, in order.
func RuleNames(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Name()
	}
	return out
}

// Severity orders findings: higher is more serious.
type Severity int

// Severities, from informational to most serious.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
)

var severityNames = map[Severity]string{
	SeverityInfo:   "info",
	SeverityLow:    "low",
	SeverityMedium: "medium",
	SeverityHigh:   "high",
}

// String returns the severity's lower-case name.
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	for k, v := range severityNames {
		if strings.EqualFold(v, string(b)) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("drift: unknown severity %q", b)
}

// Finding is one piece of drift on one entity. Refs are canonical
// (lower-case kind:namespace/name); fields that do not apply are empty and
// left out of JSON.
type Finding struct {
	// Entity is the entity that drifted.
	Entity string `json:"entity"`
	// Title is the entity's display name (metadata.title), "" when it has
	// none.
	Title string `json:"title,omitempty"`
	// Drift is the name of the rule that found it.
	Drift    string   `json:"drift"`
	Severity Severity `json:"severity"`
	// Owner is the entity's current spec.owner; findings are grouped by it.
	Owner string `json:"owner"`
	// OwnerTitle is the owner's display name (a Group's
	// spec.profile.displayName, else its metadata.title), "" when none.
	OwnerTitle string `json:"owner_title,omitempty"`
	// Message says what is wrong in one sentence, for people.
	Message string `json:"message"`

	// CodeOwnersOwner is the owners CODEOWNERS gives the descriptor's path,
	// as written there, space-separated (codeowners-mismatch).
	CodeOwnersOwner string `json:"codeowners_owner,omitempty"`
	// CodeOwnersRefs are the entities those owners resolve to, if any.
	CodeOwnersRefs []string `json:"codeowners_refs,omitempty"`

	// OldOwner and NewOwner bracket an owner change (owner-changed); Commit
	// is the commit the latest change was synced from.
	OldOwner  string     `json:"old_owner,omitempty"`
	NewOwner  string     `json:"new_owner,omitempty"`
	Commit    string     `json:"commit,omitempty"`
	ChangedAt *time.Time `json:"changed_at,omitempty"`

	// Source, File and Line locate the descriptor that declares the entity;
	// URL links to that file in its repository when the source is a web
	// host (the file to fix).
	Source string `json:"source,omitempty"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	URL    string `json:"url,omitempty"`
	// Activity is the evidence of an activity-owner-mismatch finding: who
	// did the recent work on the entity's files.
	Activity *Activity `json:"activity,omitempty"`

	// OwnerURL links to the owner's own descriptor when the owner is in
	// the catalog and its source is a web host: where an empty group gets
	// its members.
	OwnerURL string `json:"owner_url,omitempty"`
}
