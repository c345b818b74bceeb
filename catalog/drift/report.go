package drift

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// Filter narrows a report. Empty fields match everything; refs may be
// written as people do ("payments", "group:payments",
// "system:default/checkout") and compare case-insensitively.
type Filter struct {
	// Teams keeps findings whose owner is one of these (kind defaults to Group).
	Teams []string
	// Systems keeps findings on entities that are part of one of these
	// systems, or are one of them.
	Systems []string
	// Domains keeps findings on entities in one of these domains, directly
	// or through their system, or that are one of them.
	Domains []string
	// Rules keeps findings of these rules (Finding.Drift).
	Rules []string
}

type filter struct {
	teams, containers, rules map[string]bool
	hasContainers            bool
}

func (f Filter) compile() (filter, error) {
	c := filter{}
	var err error
	if c.teams, err = refSet(f.Teams, catalog.KindGroup); err != nil {
		return c, fmt.Errorf("drift: teams: %w", err)
	}
	sys, err := refSet(f.Systems, catalog.KindSystem)
	if err != nil {
		return c, fmt.Errorf("drift: systems: %w", err)
	}
	dom, err := refSet(f.Domains, catalog.KindDomain)
	if err != nil {
		return c, fmt.Errorf("drift: domains: %w", err)
	}
	if len(sys)+len(dom) > 0 {
		c.hasContainers = true
		c.containers = sys
		if c.containers == nil {
			c.containers = map[string]bool{}
		}
		for k := range dom {
			c.containers[k] = true
		}
	}
	if len(f.Rules) > 0 {
		c.rules = map[string]bool{}
		for _, r := range f.Rules {
			c.rules[strings.ToLower(strings.TrimSpace(r))] = true
		}
	}
	return c, nil
}

func refSet(in []string, kind string) (map[string]bool, error) {
	if len(in) == 0 {
		return nil, nil
	}
	m := make(map[string]bool, len(in))
	for _, s := range in {
		r, err := catalog.ParseRef(s, kind, "")
		if err != nil {
			return nil, err
		}
		m[r.String()] = true
	}
	return m, nil
}

func (c *filter) keep(s *Snapshot, f *Finding) bool {
	if c.rules != nil && !c.rules[f.Drift] {
		return false
	}
	if c.teams != nil && !c.teams[f.Owner] {
		return false
	}
	if c.hasContainers && !c.containers[f.Entity] {
		in := false
		for _, p := range s.containers(f.Entity) {
			if c.containers[p] {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// Validate checks that f's refs parse and its rule names are among rules,
// so configuration mistakes show at startup rather than at the first tick.
func (f Filter) Validate(rules []Rule) error {
	c, err := f.compile()
	if err != nil {
		return err
	}
	return c.checkRules(rules)
}

func (c *filter) checkRules(rules []Rule) error {
	names := RuleNames(rules)
	for name := range c.rules {
		if !slices.Contains(names, name) {
			return fmt.Errorf("drift: unknown rule %q (have %s)", name, strings.Join(names, ", "))
		}
	}
	return nil
}

// NeedsContainers reports whether f filters by system or domain, which
// needs a snapshot loaded WithContainers.
func (f Filter) NeedsContainers() bool { return len(f.Systems)+len(f.Domains) > 0 }

// Report runs rules over the snapshot and returns the findings f keeps,
// most serious first (then by owner, entity and rule), each located in its
// source: file, line and a link to the file when the source is on a web
// host. An unknown rule name in f.Rules is an error, so a typo in the
// configuration does not silently empty a report.
func (s *Snapshot) Report(rules []Rule, f Filter) ([]Finding, error) {
	c, err := f.compile()
	if err != nil {
		return nil, err
	}
	if c.hasContainers && !s.withContainers {
		return nil, fmt.Errorf("drift: filtering by system or domain needs a snapshot loaded WithContainers")
	}
	if err := c.checkRules(rules); err != nil {
		return nil, err
	}
	var out []Finding
	for _, r := range rules {
		if c.rules != nil && !c.rules[r.Name()] {
			continue
		}
		for _, fd := range r.Check(s) {
			if c.keep(s, &fd) {
				s.locate(&fd)
				out = append(out, fd)
			}
		}
	}
	Sort(out)
	return out, nil
}

// Sort orders findings most serious first, then by owner, entity and rule.
func Sort(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := strings.Compare(a.Owner, b.Owner); c != 0 {
			return c
		}
		if c := strings.Compare(a.Entity, b.Entity); c != 0 {
			return c
		}
		return strings.Compare(a.Drift, b.Drift)
	})
}

// locate fills in where f's entity is declared and the display names.
func (s *Snapshot) locate(f *Finding) {
	f.OwnerTitle = s.DisplayName(f.Owner)
	if o, ok := s.Summary(f.Owner); ok {
		f.OwnerURL = s.fileURL(o.Origin)
	}
	sm, ok := s.Summary(f.Entity)
	if !ok {
		return
	}
	f.Title = sm.Title
	f.Source, f.File, f.Line = sm.Origin.Source, sm.Origin.Path, sm.Origin.Line
	f.URL = s.fileURL(sm.Origin)
}

// fileURL links to the file and line of o on its Git host, at the
// source's branch (else the synced commit), or "" when the source is not
// on a web host.
func (s *Snapshot) fileURL(o catalog.Origin) string {
	src := s.sources[o.Source]
	if src == nil || o.Path == "" {
		return ""
	}
	ref := src.Branch
	if ref == "" {
		ref = o.Commit
	}
	return FileURL(src.Repo, ref, o.Path, o.Line)
}

// DisplayName returns the display name of the entity with canonical ref:
// a Group's or User's spec.profile.displayName, else metadata.title, else
// "" (callers fall back on the ref's name).
func (s *Snapshot) DisplayName(ref string) string {
	e := s.groups[ref]
	if e == nil {
		e = s.users[ref]
	}
	if e != nil {
		if p, ok := e.Spec["profile"].(map[string]any); ok {
			if d, ok := p["displayName"].(string); ok && strings.TrimSpace(d) != "" {
				return strings.TrimSpace(d)
			}
		}
	}
	if sm, ok := s.Summary(ref); ok {
		return sm.Title
	}
	return ""
}

// Team is one owner's share of a report.
type Team struct {
	// Owner is the canonical owner ref the findings share; OwnerTitle its
	// display name, if any.
	Owner      string
	OwnerTitle string
	Findings   []Finding
	// Issues groups Findings by root cause (see Issues).
	Issues []Issue
	// Counts is the number of findings per rule.
	Counts map[string]int
	// Worst is the highest severity among Findings.
	Worst Severity
}

// ByTeam groups sorted findings by owner. Teams come most serious first
// (by their worst finding, then by number of findings, then by ref), and
// keep their findings' order.
func ByTeam(fs []Finding) []Team {
	idx := map[string]int{}
	var out []Team
	for _, f := range fs {
		i, ok := idx[f.Owner]
		if !ok {
			i = len(out)
			idx[f.Owner] = i
			out = append(out, Team{Owner: f.Owner, OwnerTitle: f.OwnerTitle, Counts: map[string]int{}})
		}
		t := &out[i]
		t.Findings = append(t.Findings, f)
		t.Counts[f.Drift]++
		t.Worst = max(t.Worst, f.Severity)
	}
	for i := range out {
		out[i].Issues = Issues(out[i].Findings)
	}
	slices.SortStableFunc(out, func(a, b Team) int {
		if a.Worst != b.Worst {
			return int(b.Worst) - int(a.Worst)
		}
		if len(a.Findings) != len(b.Findings) {
			return len(b.Findings) - len(a.Findings)
		}
		return strings.Compare(a.Owner, b.Owner)
	})
	return out
}

// CountSummary formats counts as "2 unknown-owner, 1 owner-changed", rules
// in severity order.
func CountSummary(counts map[string]int) string {
	var parts []string
	for _, r := range ruleOrder {
		if n := counts[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
	}
	var extra []string
	for r, n := range counts {
		if n > 0 && !slices.Contains(ruleOrder, r) {
			extra = append(extra, fmt.Sprintf("%d %s", n, r))
		}
	}
	slices.Sort(extra)
	return strings.Join(append(parts, extra...), ", ")
}
