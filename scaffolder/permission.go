package scaffolder

import (
	"context"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// Rule says who may launch which templates (config templates.permissions).
// A rule applies to a template named in Templates ("*" for all) or tagged
// with one of Tags; a rule naming neither applies to every template.
type Rule struct {
	Templates []string
	Tags      []string
	// Users are chat user ids or names.
	Users []string
	// Groups are group refs; a chat user is in a group when the User
	// entity whose spec.profile.email is the user's email is a member.
	Groups []string
}

func (r *Rule) applies(t *template) bool {
	if len(r.Templates) == 0 && len(r.Tags) == 0 {
		return true
	}
	for _, name := range r.Templates {
		if name == "*" || strings.EqualFold(name, t.Ref.Name) || strings.EqualFold(name, t.Ref.String()) {
			return true
		}
		if ref, err := catalog.ParseRef(name, catalog.KindTemplate, ""); err == nil && ref.Equal(t.Ref) {
			return true
		}
	}
	for _, tag := range r.Tags {
		if containsFold(t.Entity.Metadata.Tags, tag) {
			return true
		}
	}
	return false
}

// permissions answers whether a user may launch templates. It looks up the
// user's groups once per request.
type permissions struct {
	rules  []Rule
	store  catalog.Store
	user   user
	groups []catalog.Ref
	looked bool
}

// allowed applies the first rule that applies to t; no rule means anyone
// may launch.
func (p *permissions) allowed(ctx context.Context, t *template) (bool, error) {
	for i := range p.rules {
		r := &p.rules[i]
		if !r.applies(t) {
			continue
		}
		for _, u := range r.Users {
			if u != "" && (u == p.user.ID || strings.EqualFold(u, p.user.Name)) {
				return true, nil
			}
		}
		if len(r.Groups) == 0 {
			return false, nil
		}
		groups, err := p.userGroups(ctx)
		if err != nil {
			return false, err
		}
		for _, g := range r.Groups {
			ref, err := catalog.ParseRef(g, catalog.KindGroup, "")
			if err != nil {
				continue
			}
			for _, have := range groups {
				if have.Equal(ref) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	return true, nil
}

// userGroups finds the User entities whose spec.profile.email is the chat
// user's email and returns the groups they are members of (spec.memberOf
// and stored memberOf relations). No email means no groups: a chat user
// is never matched by name alone, which anyone can choose.
func (p *permissions) userGroups(ctx context.Context) ([]catalog.Ref, error) {
	if p.looked {
		return p.groups, nil
	}
	p.looked = true
	if p.user.Email == "" {
		return nil, nil
	}
	users, err := p.store.Entities(ctx, catalog.Query{Kind: catalog.KindUser})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		profile, _ := u.Spec["profile"].(map[string]any)
		email, _ := profile["email"].(string)
		if email == "" || !strings.EqualFold(email, p.user.Email) {
			continue
		}
		for _, m := range u.SpecStrings("memberOf") {
			if ref, err := catalog.ParseRef(m, catalog.KindGroup, u.Ref().Namespace); err == nil {
				p.groups = append(p.groups, ref)
			}
		}
		rels, err := p.store.Relations(ctx, u.Ref())
		if err != nil {
			return nil, err
		}
		for _, rel := range rels {
			if rel.Type != catalog.RelMemberOf {
				continue
			}
			t := rel.Target
			if t.IsZero() {
				if t, err = catalog.ParseRef(rel.TargetRef, catalog.KindGroup, ""); err != nil {
					continue
				}
			}
			p.groups = append(p.groups, t)
		}
	}
	return p.groups, nil
}
