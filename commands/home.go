package commands

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/view"
)

// Bounds on a home page: Slack's Home tab holds at most 100 blocks and
// fails past 250 kB (PLATFORM.md, Block Kit limits).
const (
	maxHomeTeams     = 5
	maxHomeOwned     = 5
	maxHomeTemplates = 8
	homeTimeout      = 8 * time.Second
)

// Home answers a person's own page (Slack's App Home tab): the teams they
// are a member of, found through req.UserEmail and the catalog User entity
// whose spec.profile.email it is; what those teams own; their teams' open
// ownership drift; and the templates they may launch. It never fails: what
// cannot be read is said in the page.
func (r *Router) Home(ctx context.Context, req *Request) Reply {
	if r.home == nil {
		return Reply{Title: "portalbot", Text: homeIntro}
	}
	rep, err := r.home(ctx, req)
	if err != nil {
		r.logger.ErrorContext(ctx, "home page failed", "err", err)
		return Reply{Title: "portalbot", Text: homeIntro + "\n\nYour teams could not be read from the catalog just now; the error was logged. Open this tab again in a moment."}
	}
	return rep
}

const homeIntro = "Ask me about the developer portal's catalog with /portal in any channel, or here in Messages: " +
	"owner <entity>, oncall <entity>, docs <entity>, team <group>, search <text>, templates, help."

// userIndex maps lower-case emails to the User entities whose
// spec.profile.email they are, rebuilt when the catalog changes.
type userIndex struct {
	mu     sync.Mutex
	gen    int64                  // guarded by mu; the snapshot generation m reflects
	byMail map[string]catalog.Ref // guarded by mu; nil until built
}

// user returns the User entity whose email is email, nil when none.
func (h *handlers) user(ctx context.Context, s view.Snapshot, email string) (*catalog.Entity, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, nil
	}
	ref, ok, err := h.users.lookup(ctx, h.store, s.Generation(), email)
	if err != nil || !ok {
		return nil, err
	}
	e := s.Lookup(ref)
	if e == nil {
		return nil, nil
	}
	return h.entity(ctx, s, e)
}

// lookup returns the User entity ref for email, rebuilding the map from st
// when the catalog generation is no longer gen.
func (ui *userIndex) lookup(ctx context.Context, st catalog.Store, gen int64, email string) (catalog.Ref, bool, error) {
	ui.mu.Lock()
	defer ui.mu.Unlock()
	if ui.byMail == nil || ui.gen != gen {
		users, err := st.Entities(ctx, catalog.Query{Kind: catalog.KindUser, NoRelations: true})
		if err != nil {
			return catalog.Ref{}, false, err
		}
		m := make(map[string]catalog.Ref, len(users))
		for _, u := range users {
			if _, e := profile(u); e != "" {
				if _, dup := m[strings.ToLower(e)]; !dup {
					m[strings.ToLower(e)] = u.Ref()
				}
			}
		}
		ui.byMail, ui.gen = m, gen
	}
	ref, ok := ui.byMail[email]
	return ref, ok, nil
}

// home is Router.Home for the catalog commands.
func (h *handlers) home(ctx context.Context, req *Request) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, homeTimeout)
	defer cancel()
	s, err := h.view.Snapshot(ctx)
	if err != nil {
		return Reply{}, err
	}
	u, err := h.user(ctx, s, req.Email(ctx))
	if err != nil {
		return Reply{}, err
	}
	rep := Reply{Title: "portalbot", Text: homeIntro}
	var teams []catalog.Ref
	switch {
	case req.UserEmail == "":
		rep.Text += "\n\nI can't tell which catalog User you are: the chat platform did not share your email address."
	case u == nil:
		rep.Text += "\n\nNo User entity in the catalog has the email address " + req.UserEmail +
			", so I can't show your teams. Add it to your User entity as spec.profile.email."
	default:
		rep.Title = "Hello, " + displayName(u)
		for _, m := range u.SpecStrings("memberOf") {
			if ref, err := catalog.ParseRef(m, catalog.KindGroup, u.Ref().Namespace); err == nil {
				teams = append(teams, ref)
			}
		}
		teams = dedupeRefs(append(teams, relTargets(u.Relations, catalog.RelMemberOf)...))
		if len(teams) == 0 {
			rep.Text += "\n\nYour User entity (" + refLabel(u.Ref()) + ") is a member of no team."
		}
	}
	groups, err := s.Load(ctx, teams[:min(len(teams), maxHomeTeams)])
	if err != nil {
		return Reply{}, err
	}
	var teamNames []string
	for i, t := range teams {
		if i == maxHomeTeams {
			rep.Sections = append(rep.Sections, Section{Text: "+" + strconv.Itoa(len(teams)-i) + " more teams; ask \"team <group>\" for them."})
			break
		}
		teamNames = append(teamNames, t.String())
		sec := Section{Title: "Your team " + refLabel(t)}
		if g := groups[t.String()]; g != nil {
			sec.Title = "Your team " + displayName(g) + " (" + refLabel(t) + ")"
		}
		owned := s.Owned(t.String())
		if owned.Len() == 0 {
			sec.Text = "Owns nothing in the catalog."
		} else {
			sec.Fields = []Field{{Name: "Owns", Value: ownedCounts(owned)}}
			sec.Links = h.ownedLinks(owned, maxHomeOwned)
			if more := owned.Len() - maxHomeOwned; more > 0 {
				sec.Text = "+" + strconv.Itoa(more) + " more in the portal."
			}
		}
		sec.Links = append(sec.Links, Link{Text: "Team page", URL: h.entityURL(t)})
		rep.Sections = append(rep.Sections, sec)
	}
	if h.drift != nil && len(teamNames) > 0 {
		rep.Sections = append(rep.Sections, h.homeDrift(ctx, teamNames)...)
	}
	if h.templates != nil {
		rep.Sections = append(rep.Sections, h.homeTemplates(ctx, req)...)
	}
	return rep, nil
}

// homeDrift lists the open drift findings of teams, or says there is none.
func (h *handlers) homeDrift(ctx context.Context, teams []string) []Section {
	fs, err := h.drift.Findings(ctx, time.Now().Add(-driftWindow), drift.Filter{Teams: teams})
	if err != nil {
		h.logger.WarnContext(ctx, "home drift failed", "err", err)
		return []Section{{Title: "Ownership drift", Text: "Your teams' drift findings could not be computed just now."}}
	}
	d := DriftReport("", fs, h.portal)
	out := []Section{{Title: "Ownership drift for your teams", Text: d.Text}}
	for _, sec := range d.Sections {
		if len(sec.Links) > maxHomeOwned {
			sec.Links = sec.Links[:maxHomeOwned]
		}
		out = append(out, sec)
	}
	return out
}

// homeTemplates lists the templates the person may launch, with their
// Launch buttons.
func (h *handlers) homeTemplates(ctx context.Context, req *Request) []Section {
	list, err := h.templates.List(ctx, req, "")
	if err != nil {
		var ue *UserError
		if errors.As(err, &ue) {
			return []Section{{Title: "Templates you may launch", Text: ue.Msg}}
		}
		h.logger.WarnContext(ctx, "home templates failed", "err", err)
		return []Section{{Title: "Templates you may launch", Text: "The templates could not be listed just now."}}
	}
	out := []Section{{Title: "Templates you may launch", Text: list.Text}}
	if len(list.Sections) == 0 && list.Text == "" {
		out[0].Text = "None."
	}
	for i, sec := range list.Sections {
		if i == maxHomeTemplates {
			out = append(out, Section{Text: "+" + strconv.Itoa(len(list.Sections)-i) + " more: ask \"templates\"."})
			break
		}
		out = append(out, sec)
	}
	return out
}
