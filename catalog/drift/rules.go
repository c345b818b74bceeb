package drift

import (
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// unknownOwner reports a spec.owner that names no Group or User entity:
// nobody can be asked about the entity.
type unknownOwner struct{}

func (unknownOwner) Name() string { return RuleUnknownOwner }

func (unknownOwner) Check(s *Snapshot) []Finding {
	var out []Finding
	for i := range s.summaries {
		sm := &s.summaries[i]
		o := sm.Owner
		if o == "" {
			continue
		}
		if (strings.HasPrefix(o, "group:") || strings.HasPrefix(o, "user:")) && s.Exists(o) {
			continue
		}
		out = append(out, Finding{
			Entity:   sm.Ref.String(),
			Drift:    RuleUnknownOwner,
			Severity: SeverityHigh,
			Owner:    o,
			Message:  fmt.Sprintf("spec.owner %s is not a Group or User in the catalog", o),
		})
	}
	return out
}

// ownerEmptyGroup reports an owner Group with no User members, directly or
// through its child groups: the entity is owned on paper only.
type ownerEmptyGroup struct{}

func (ownerEmptyGroup) Name() string { return RuleOwnerEmptyGroup }

func (ownerEmptyGroup) Check(s *Snapshot) []Finding {
	var out []Finding
	for i := range s.summaries {
		sm := &s.summaries[i]
		o := sm.Owner
		if !strings.HasPrefix(o, "group:") || s.groups[o] == nil || s.populated[o] {
			continue
		}
		out = append(out, Finding{
			Entity:   sm.Ref.String(),
			Drift:    RuleOwnerEmptyGroup,
			Severity: SeverityMedium,
			Owner:    o,
			Message:  fmt.Sprintf("owner %s has no members, directly or through child groups", o),
		})
	}
	return out
}

// codeOwnersMismatch reports a Component, API or Resource whose
// descriptor's CODEOWNERS owners (the last matching line, as GitHub reads
// it) do not include the entity's owner. Kinds that do not live next to
// their code are not checked, and a path no line covers is not reported.
type codeOwnersMismatch struct{}

func (codeOwnersMismatch) Name() string { return RuleCodeOwnersMismatch }

// codeOwnedKinds are the kinds whose descriptor sits with their code.
var codeOwnedKinds = map[string]bool{"component": true, "api": true, "resource": true}

func (codeOwnersMismatch) Check(s *Snapshot) []Finding {
	var out []Finding
	type key struct{ owner, ns string }
	cache := map[key][]string{}
	for i := range s.summaries {
		sm := &s.summaries[i]
		if sm.Owner == "" || sm.Origin.Path == "" || !codeOwnedKinds[strings.ToLower(sm.Ref.Kind)] {
			continue
		}
		src := s.sources[sm.Origin.Source]
		if src == nil || src.codeOwners == nil {
			continue
		}
		owners := src.codeOwners.Owners(sm.Origin.Path)
		if len(owners) == 0 {
			continue
		}
		var refs []string
		covered := false
		for _, w := range owners {
			k := key{strings.ToLower(w), sm.Ref.Namespace}
			rs, ok := cache[k]
			if !ok {
				rs = s.owners.resolve(w, sm.Ref.Namespace)
				cache[k] = rs
			}
			for _, r := range rs {
				refs = append(refs, r)
				if s.owners.covers(r, sm.Owner) {
					covered = true
				}
			}
		}
		if covered {
			continue
		}
		written := strings.Join(owners, " ")
		out = append(out, Finding{
			Entity:          sm.Ref.String(),
			Drift:           RuleCodeOwnersMismatch,
			Severity:        SeverityLow,
			Owner:           sm.Owner,
			Message:         fmt.Sprintf("CODEOWNERS gives %s to %s, but spec.owner is %s", sm.Origin.Path, written, sm.Owner),
			CodeOwnersOwner: written,
			CodeOwnersRefs:  refs,
		})
	}
	return out
}

// ownerChanged reports an entity whose owner changed since the snapshot's
// Since (the previous report), so the new owners know what they received.
// Several changes collapse into one from the first old owner to the last
// new one; a change reverted since is not reported, nor are entities that
// were created or removed.
type ownerChanged struct{}

func (ownerChanged) Name() string { return RuleOwnerChanged }

func (ownerChanged) Check(s *Snapshot) []Finding {
	type span struct{ first, last catalog.OwnershipChange }
	spans := map[string]*span{}
	var order []string
	for _, c := range s.changes {
		k := c.Entity.String()
		sp := spans[k]
		if sp == nil {
			sp = &span{first: c}
			spans[k] = sp
			order = append(order, k)
		}
		if sp.first.Old == "" && c.Old != "" {
			sp.first = c
		}
		sp.last = c
	}
	var out []Finding
	for _, k := range order {
		sp := spans[k]
		oldOwner, newOwner := sp.first.Old, sp.last.New
		if oldOwner == "" || newOwner == "" || oldOwner == newOwner {
			continue
		}
		sm, ok := s.Summary(k)
		if !ok || sm.Owner != newOwner {
			continue // removed, or changed again outside the recorded history
		}
		at := sp.last.At
		out = append(out, Finding{
			Entity:    k,
			Drift:     RuleOwnerChanged,
			Severity:  SeverityInfo,
			Owner:     newOwner,
			Message:   fmt.Sprintf("owner changed from %s to %s", oldOwner, newOwner),
			OldOwner:  oldOwner,
			NewOwner:  newOwner,
			Commit:    sp.last.Commit,
			ChangedAt: &at,
		})
	}
	return out
}
