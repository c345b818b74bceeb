package drift

import (
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// ownerResolver maps CODEOWNERS owners to entity refs:
//
//   - "@org/team": the Group whose github.com/team-slug annotation is
//     "org/team" (or "team"); else the configured mapping; else the Group
//     named team in the entity's namespace or the default one, unless that
//     Group's annotation names another team.
//   - "@login": the User whose github.com/user-login annotation is login;
//     else the mapping; else the User named login.
//   - "name@example.com": the mapping; else the User whose
//     spec.profile.email is that address.
//
// The name fallbacks return the ref even when no such entity exists, so an
// owner written the same way in both places is not reported twice (once as
// unknown-owner, once as a mismatch).
type ownerResolver struct {
	s         *Snapshot
	teamSlugs map[string][]string // "org/team" and "team" -> group refs
	annotated map[string]bool     // groups with a team-slug annotation
	logins    map[string]string   // login -> user ref
	emails    map[string]string   // address -> user ref
}

func newOwnerResolver(s *Snapshot) *ownerResolver {
	o := &ownerResolver{
		s:         s,
		teamSlugs: map[string][]string{},
		annotated: map[string]bool{},
		logins:    map[string]string{},
		emails:    map[string]string{},
	}
	for ref, g := range s.groups {
		slug := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(g.Metadata.Annotations[AnnotationTeamSlug]), "@"))
		if slug == "" {
			continue
		}
		o.annotated[ref] = true
		o.teamSlugs[slug] = append(o.teamSlugs[slug], ref)
	}
	for ref, u := range s.users {
		if l := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(u.Metadata.Annotations[AnnotationUserLogin]), "@")); l != "" {
			o.logins[l] = ref
		}
		if e := strings.ToLower(strings.TrimSpace(profileEmail(u))); e != "" {
			o.emails[e] = ref
		}
	}
	return o
}

func profileEmail(u *catalog.Entity) string {
	p, _ := u.Spec["profile"].(map[string]any)
	e, _ := p["email"].(string)
	return e
}

// resolve returns the refs a CODEOWNERS owner stands for; namespace is the
// namespace of the entity whose file it owns. Nil means unknown.
func (o *ownerResolver) resolve(owner, namespace string) []string {
	key := strings.ToLower(strings.TrimSpace(owner))
	switch {
	case strings.HasPrefix(key, "@") && strings.Contains(key, "/"):
		slug := key[1:]
		if refs := o.teamSlugs[slug]; len(refs) > 0 {
			return refs
		}
		_, team, _ := strings.Cut(slug, "/")
		if refs := o.teamSlugs[team]; len(refs) > 0 {
			return refs
		}
		if m, ok := o.s.mapping[key]; ok {
			return []string{m}
		}
		return o.byName(catalog.KindGroup, team, namespace)
	case strings.HasPrefix(key, "@"):
		login := key[1:]
		if u, ok := o.logins[login]; ok {
			return []string{u}
		}
		if m, ok := o.s.mapping[key]; ok {
			return []string{m}
		}
		return o.byName(catalog.KindUser, login, namespace)
	case strings.Contains(key, "@"):
		if m, ok := o.s.mapping[key]; ok {
			return []string{m}
		}
		if u, ok := o.emails[key]; ok {
			return []string{u}
		}
	}
	return nil
}

// byName returns kind:namespace/name if it exists, else kind:default/name
// (existing or not). A Group annotated with another team slug is not
// matched by name: its annotation says which team it is.
func (o *ownerResolver) byName(kind, name, namespace string) []string {
	if name == "" || strings.ContainsAny(name, ":/") {
		return nil
	}
	ns := strings.ToLower(namespace)
	if ns == "" {
		ns = catalog.DefaultNamespace
	}
	cand := catalog.Ref{Kind: kind, Namespace: ns, Name: name}.String()
	if !o.s.Exists(cand) {
		cand = catalog.Ref{Kind: kind, Namespace: catalog.DefaultNamespace, Name: name}.String()
	}
	if o.annotated[cand] {
		return nil
	}
	return []string{cand}
}

// covers reports whether the resolved CODEOWNERS owner ref stands for the
// entity owner: the same entity, or a User who is a member of the owner
// Group or of one of its descendants.
func (o *ownerResolver) covers(ref, owner string) bool {
	if ref == owner {
		return true
	}
	return strings.HasPrefix(ref, "user:") && strings.HasPrefix(owner, "group:") && o.s.memberOf(ref, owner)
}
