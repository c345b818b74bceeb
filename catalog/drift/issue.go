package drift

import (
	"fmt"
	"slices"
	"strings"
)

// Issue is one root cause and the findings behind it: an empty owner group
// is one issue however many entities it owns, and so is an owner name that
// is not in the catalog, a CODEOWNERS owner that disagrees with one team
// about many files, or one team's entities moved to another. A team lead
// fixes an issue once, so reports list issues and keep the entities as
// detail.
type Issue struct {
	// Drift is the rule that found it.
	Drift    string   `json:"drift"`
	Severity Severity `json:"severity"`
	// Owner and OwnerTitle are the findings' owner and its display name.
	Owner      string `json:"owner"`
	OwnerTitle string `json:"owner_title,omitempty"`
	// Message states the root cause in one sentence, with display names.
	Message string `json:"message"`
	// URL links to the one file that fixes every finding when there is
	// such a file (an empty group's own descriptor), else "".
	URL string `json:"url,omitempty"`
	// Findings are the entities behind the issue, in report order; never
	// empty.
	Findings []Finding `json:"findings"`
}

// issueKey says which findings share a root cause; "" keeps a finding
// alone.
func issueKey(f *Finding) string {
	switch f.Drift {
	case RuleUnknownOwner, RuleOwnerEmptyGroup:
		return f.Drift + "\x00" + f.Owner
	case RuleCodeOwnersMismatch:
		return f.Drift + "\x00" + f.Owner + "\x00" + f.Source + "\x00" + f.CodeOwnersOwner
	case RuleOwnerChanged:
		return f.Drift + "\x00" + f.OldOwner + "\x00" + f.NewOwner
	case RuleActivityOwnerMismatch:
		if f.Activity != nil {
			return f.Drift + "\x00" + f.Owner + "\x00" + f.Activity.Team
		}
	}
	return ""
}

// Issues groups findings by root cause. Issues keep the order of their
// first finding, so sorted findings give issues most serious first.
func Issues(fs []Finding) []Issue {
	idx := map[string]int{}
	var out []Issue
	for _, f := range fs {
		k := issueKey(&f)
		if i, ok := idx[k]; ok && k != "" {
			out[i].Findings = append(out[i].Findings, f)
			continue
		}
		if k != "" {
			idx[k] = len(out)
		}
		out = append(out, Issue{Drift: f.Drift, Severity: f.Severity, Owner: f.Owner, OwnerTitle: f.OwnerTitle, Findings: []Finding{f}})
	}
	for i := range out {
		out[i].describe()
	}
	return out
}

// describe sets the issue's message and link from its findings.
func (is *Issue) describe() {
	f := is.Findings[0]
	n := len(is.Findings)
	owner := Name(is.Owner, is.OwnerTitle)
	what := plural(n, "entity")
	if n == 1 {
		what = Name(f.Entity, f.Title)
	}
	switch is.Drift {
	case RuleOwnerEmptyGroup:
		is.Message = fmt.Sprintf("%s has no members and owns %s", owner, what)
		is.URL = f.OwnerURL
	case RuleUnknownOwner:
		is.Message = fmt.Sprintf("owner %s is not a Group or User in the catalog and is named by %s", is.Owner, what)
	case RuleCodeOwnersMismatch:
		if n == 1 {
			is.Message = fmt.Sprintf("CODEOWNERS gives %s to %s, but spec.owner is %s", Name(f.Entity, f.Title), f.CodeOwnersOwner, owner)
		} else {
			is.Message = fmt.Sprintf("CODEOWNERS gives %s to %s, but spec.owner is %s", plural(n, "entity"), f.CodeOwnersOwner, owner)
		}
	case RuleOwnerChanged:
		if n == 1 {
			is.Message = fmt.Sprintf("%s moved from %s to %s", Name(f.Entity, f.Title), shortRef(f.OldOwner), owner)
		} else {
			is.Message = fmt.Sprintf("%s moved from %s to %s", plural(n, "entity"), shortRef(f.OldOwner), owner)
		}
	case RuleActivityOwnerMismatch:
		if n == 1 || f.Activity == nil {
			is.Message = Name(f.Entity, f.Title) + ": " + f.Message
		} else {
			is.Message = fmt.Sprintf("%s did most of the recent work on %s owned by %s", Name(f.Activity.Team, f.Activity.TeamTitle), plural(n, "entity"), owner)
		}
	default:
		is.Message = f.Message
		if n == 1 {
			is.Message = Name(f.Entity, f.Title) + ": " + f.Message
		}
	}
}

// Name is what people call the entity with canonical ref: its display
// name when it has one, else the name part of the ref.
func Name(ref, title string) string {
	if t := strings.TrimSpace(title); t != "" {
		return t
	}
	return shortRef(ref)
}

// shortRef drops the kind and the default namespace of a canonical ref:
// "group:default/payments" is "payments", "group:ops/sre" is "ops/sre".
func shortRef(ref string) string {
	_, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return ref
	}
	return strings.TrimPrefix(rest, "default/")
}

// Entities returns the number of entities behind issues.
func Entities(issues []Issue) int {
	n := 0
	for _, is := range issues {
		n += len(is.Findings)
	}
	return n
}

// Key identifies a finding across reports, to tell new findings from
// those already reported: its rule and entity.
func (f *Finding) Key() string { return f.Drift + " " + f.Entity }

// Delta compares findings with the keys of the previous report's: added
// are findings not reported before, fixed the previous keys no longer
// found. Both come sorted.
func Delta(fs []Finding, previous []string) (added []Finding, fixed []string) {
	now := make(map[string]bool, len(fs))
	prev := make(map[string]bool, len(previous))
	for _, k := range previous {
		prev[k] = true
	}
	for _, f := range fs {
		k := f.Key()
		now[k] = true
		if !prev[k] {
			added = append(added, f)
		}
	}
	for k := range prev {
		if !now[k] {
			fixed = append(fixed, k)
		}
	}
	slices.Sort(fixed)
	return added, fixed
}
