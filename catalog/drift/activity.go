package drift

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/portalbot/portalbot/catalog"
)

// RuleActivityOwnerMismatch reports an entity whose recent commits were
// mostly made by one team that is not its owner.
const RuleActivityOwnerMismatch = "activity-owner-mismatch"

// History reads a source's commit history; ingest.HistoryReader
// implements it over the sync's clones.
type History interface {
	// Commits returns the non-merge commits reachable from src.Commit with
	// committer time after since, newest first, at most max. An error
	// wrapping catalog.ErrNotFound means the source has no readable
	// history (never synced, not cloned here): its entities are skipped.
	Commits(ctx context.Context, src catalog.Source, since time.Time, max int) ([]catalog.Commit, error)
}

// Activity drift defaults (ActivityOptions' zero values).
const (
	DefaultActivityDays       = 90
	DefaultActivityMaxCommits = 10000
	DefaultActivityHalfLife   = 90 * 24 * time.Hour
	DefaultActivityMinShare   = 0.6
	DefaultActivityMinCommits = 5
	// activityAuthors is how many top authors a finding names.
	activityAuthors = 3
	// historyReaders bounds the sources read at once.
	historyReaders = 4
)

// ActivityOptions configure activity-owner-mismatch. The zero value of
// each field means its default.
type ActivityOptions struct {
	// History reads commits; nil disables the rule (it finds nothing).
	History History
	// Days is the window of history read: the last Days days (90).
	Days int
	// MaxCommits bounds the commits read per source (10,000).
	MaxCommits int
	// HalfLife weights a commit by 2^(-age/HalfLife) (90 days).
	HalfLife time.Duration
	// MinShare is the share of the weighted work one other team must have
	// done (0.6).
	MinShare float64
	// MinCommits is how many commits that team must have made (5).
	MinCommits int
	// Aliases map an author email (compared case-insensitively) to a User
	// ref, for addresses that are not a User's spec.profile.email.
	Aliases map[string]string
	// Now is the time ages are measured from; zero means time.Now().
	Now time.Time
}

func (o ActivityOptions) withDefaults() ActivityOptions {
	if o.Days <= 0 {
		o.Days = DefaultActivityDays
	}
	if o.MaxCommits <= 0 {
		o.MaxCommits = DefaultActivityMaxCommits
	}
	if o.HalfLife <= 0 {
		o.HalfLife = DefaultActivityHalfLife
	}
	if o.MinShare <= 0 {
		o.MinShare = DefaultActivityMinShare
	}
	if o.MinCommits <= 0 {
		o.MinCommits = DefaultActivityMinCommits
	}
	return o
}

// Activity is the evidence of an activity-owner-mismatch finding.
type Activity struct {
	// Team did Share of the recency-weighted work with TeamCommits of the
	// Commits that changed the entity's directory in the last Days days.
	Team        string  `json:"team"`
	TeamTitle   string  `json:"team_title,omitempty"`
	Share       float64 `json:"share"`
	TeamCommits int     `json:"team_commits"`
	Commits     int     `json:"commits"`
	Days        int     `json:"days"`
	// OwnerShare is the share of the owner (its members and its child
	// groups' members).
	OwnerShare float64 `json:"owner_share"`
	// TopAuthors are Team's authors with the most commits, most first.
	TopAuthors []Author `json:"top_authors"`
}

// Author is one author's part of an entity's recent work.
type Author struct {
	User    string `json:"user"`
	Name    string `json:"name,omitempty"`
	Commits int    `json:"commits"`
}

// activityState is what the snapshot holds for the rule: the histories of
// the sources, read at load.
type activityState struct {
	opt     ActivityOptions
	now     time.Time
	commits map[string][]catalog.Commit // by source name
}

// loadActivity reads the history of every source that declares code-owned
// entities, a few sources at a time. A source without readable history is
// skipped; any other error fails the load.
func (s *Snapshot) loadActivity(ctx context.Context, opt ActivityOptions) error {
	if opt.History == nil {
		return nil
	}
	opt = opt.withDefaults()
	st := &activityState{opt: opt, now: opt.Now, commits: map[string][]catalog.Commit{}}
	if st.now.IsZero() {
		st.now = time.Now()
	}
	want := map[string]bool{}
	for i := range s.summaries {
		sm := &s.summaries[i]
		if sm.Origin.Path != "" && codeOwnedKinds[strings.ToLower(sm.Ref.Kind)] {
			want[sm.Origin.Source] = true
		}
	}
	since := st.now.Add(-time.Duration(opt.Days) * 24 * time.Hour)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(historyReaders)
	for name := range want {
		src := s.sources[name]
		if src == nil {
			continue
		}
		g.Go(func() error {
			cs, err := opt.History.Commits(gctx, src.Source, since, opt.MaxCommits)
			if errors.Is(err, catalog.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("drift: history of %s: %w", name, err)
			}
			mu.Lock()
			st.commits[name] = cs
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.activity = st
	return nil
}

// activityOwnerMismatch reports an entity whose files were mostly changed,
// recently, by one team that is not its owner: the owner on paper is not
// the team doing the work. Each commit counts once per entity, weighted by
// recency; authors are matched to Users by email (and the configured
// aliases), and Users to their Groups.
type activityOwnerMismatch struct{}

func (activityOwnerMismatch) Name() string { return RuleActivityOwnerMismatch }

func (activityOwnerMismatch) Check(s *Snapshot) []Finding {
	st := s.activity
	if st == nil {
		return nil
	}
	authors := s.authorIndex(st.opt.Aliases)
	userGroups := map[string][]string{}
	for g, users := range s.members {
		for _, u := range users {
			userGroups[u] = append(userGroups[u], g)
		}
	}
	var out []Finding
	for srcName, commits := range st.commits {
		out = append(out, s.activityFindings(st, srcName, commits, authors, userGroups)...)
	}
	return out
}

// authorIndex maps lower-case author emails to User refs.
func (s *Snapshot) authorIndex(aliases map[string]string) map[string]string {
	out := make(map[string]string, len(s.users)+len(aliases))
	for ref, u := range s.users {
		if e := strings.ToLower(strings.TrimSpace(profileEmail(u))); e != "" {
			out[e] = ref
		}
	}
	for e, u := range aliases {
		ref, err := catalog.ParseRef(u, catalog.KindUser, "")
		if err != nil {
			continue // Filter-like validation happens in the configuration
		}
		out[strings.ToLower(strings.TrimSpace(e))] = ref.String()
	}
	return out
}

// dirWork is the weighted work on one entity directory.
type dirWork struct {
	total   float64
	commits int
	// byUser is weight and commits per author (a User ref, or "email:<address>"
	// for authors who are no User).
	byUser map[string]*userWork
}

type userWork struct {
	weight  float64
	commits int
	name    string
}

func (s *Snapshot) activityFindings(st *activityState, srcName string, commits []catalog.Commit, authors map[string]string, userGroups map[string][]string) []Finding {
	// The entities of this source by directory: a changed file belongs to
	// the entities of the nearest enclosing directory that has any, so a
	// monorepo's root component does not claim its services' work.
	dirs := map[string][]int{}
	for i := range s.summaries {
		sm := &s.summaries[i]
		if sm.Origin.Source != srcName || sm.Origin.Path == "" || sm.Owner == "" || !codeOwnedKinds[strings.ToLower(sm.Ref.Kind)] {
			continue
		}
		d := path.Dir(strings.TrimPrefix(sm.Origin.Path, "/"))
		dirs[d] = append(dirs[d], i)
	}
	if len(dirs) == 0 {
		return nil
	}
	work := map[string]*dirWork{}
	halfLife := st.opt.HalfLife.Hours()
	touched := map[string]bool{}
	for _, c := range commits {
		clear(touched)
		for _, p := range c.Paths {
			if d, ok := enclosing(dirs, p); ok {
				touched[d] = true
			}
		}
		if len(touched) == 0 {
			continue
		}
		age := st.now.Sub(c.At).Hours()
		w := math.Exp2(-max(age, 0) / halfLife)
		who := authors[strings.ToLower(strings.TrimSpace(c.AuthorEmail))]
		if who == "" {
			who = "email:" + strings.ToLower(c.AuthorEmail)
		}
		for d := range touched {
			dw := work[d]
			if dw == nil {
				dw = &dirWork{byUser: map[string]*userWork{}}
				work[d] = dw
			}
			dw.total += w
			dw.commits++
			uw := dw.byUser[who]
			if uw == nil {
				uw = &userWork{name: c.AuthorName}
				dw.byUser[who] = uw
			}
			uw.weight += w
			uw.commits++
		}
	}
	var out []Finding
	for d, dw := range work {
		for _, i := range dirs[d] {
			if f, ok := s.activityFinding(st, &s.summaries[i], dw, userGroups); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// enclosing returns the nearest directory of p (a file path) that holds
// entities.
func enclosing(dirs map[string][]int, p string) (string, bool) {
	d := path.Dir(p)
	for {
		if _, ok := dirs[d]; ok {
			return d, true
		}
		if d == "." || d == "/" || d == "" {
			return "", false
		}
		d = path.Dir(d)
	}
}

func (s *Snapshot) activityFinding(st *activityState, sm *catalog.Summary, dw *dirWork, userGroups map[string][]string) (Finding, bool) {
	if dw.total == 0 {
		return Finding{}, false
	}
	type teamWork struct {
		weight  float64
		commits int
		users   []string
	}
	teams := map[string]*teamWork{}
	ownerWeight := 0.0
	for u, uw := range dw.byUser {
		if s.owners.covers(u, sm.Owner) {
			ownerWeight += uw.weight
			continue
		}
		for _, g := range userGroups[u] {
			// The owner's own child teams are the owner's work.
			if g == sm.Owner || s.descends(g, sm.Owner) {
				continue
			}
			tw := teams[g]
			if tw == nil {
				tw = &teamWork{}
				teams[g] = tw
			}
			tw.weight += uw.weight
			tw.commits += uw.commits
			tw.users = append(tw.users, u)
		}
	}
	best, bestW := "", 0.0
	for g, tw := range teams {
		if tw.weight > bestW || (tw.weight == bestW && g < best) {
			best, bestW = g, tw.weight
		}
	}
	if best == "" {
		return Finding{}, false
	}
	tw := teams[best]
	share := tw.weight / dw.total
	if share < st.opt.MinShare || tw.commits < st.opt.MinCommits {
		return Finding{}, false
	}
	slices.SortFunc(tw.users, func(a, b string) int {
		if c := dw.byUser[b].commits - dw.byUser[a].commits; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var top []Author
	var names []string
	for _, u := range tw.users[:min(len(tw.users), activityAuthors)] {
		n := s.DisplayName(u)
		if n == "" && strings.HasPrefix(u, "email:") {
			n = dw.byUser[u].name // no User: the name the commit gives
		}
		top = append(top, Author{User: u, Name: n, Commits: dw.byUser[u].commits})
		names = append(names, fmt.Sprintf("%s (%d)", Name(u, n), dw.byUser[u].commits))
	}
	title := s.DisplayName(best)
	ownerShare := ownerWeight / dw.total
	return Finding{
		Entity:   sm.Ref.String(),
		Drift:    RuleActivityOwnerMismatch,
		Severity: SeverityLow,
		Owner:    sm.Owner,
		Message: fmt.Sprintf("%s made %.0f%% of the recent work (%d of %d commits in %d days; top authors %s); the owner made %.0f%%",
			Name(best, title), 100*share, tw.commits, dw.commits, st.opt.Days, strings.Join(names, ", "), 100*ownerShare),
		Activity: &Activity{
			Team: best, TeamTitle: title, Share: round2(share), TeamCommits: tw.commits, Commits: dw.commits,
			Days: st.opt.Days, OwnerShare: round2(ownerShare), TopAuthors: top,
		},
	}, true
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// descends reports whether group g is a descendant of group anc.
func (s *Snapshot) descends(g, anc string) bool {
	seen := map[string]bool{}
	var walk func(p string) bool
	walk = func(p string) bool {
		if seen[p] {
			return false
		}
		seen[p] = true
		for _, c := range s.children[p] {
			if c == g || walk(c) {
				return true
			}
		}
		return false
	}
	return walk(anc)
}
