package drift

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/portalbot/portalbot/catalog"
)

// Annotations the rules read.
const (
	// AnnotationTeamSlug names a Group's GitHub team as "org/team-slug"
	// (Backstage's github.com/team-slug); it decides which CODEOWNERS
	// "@org/team-slug" owner means that Group.
	AnnotationTeamSlug = "github.com/team-slug"
	// AnnotationUserLogin names a User's GitHub login
	// (Backstage's github.com/user-login), for CODEOWNERS "@login" owners.
	AnnotationUserLogin = "github.com/user-login"
)

// Reader is what Load needs from the catalog; catalog.Store satisfies it.
type Reader interface {
	Summaries(ctx context.Context) ([]catalog.Summary, error)
	Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error)
	RelationsOfType(ctx context.Context, typ string) ([]catalog.Relation, error)
	Sources(ctx context.Context) ([]catalog.Source, error)
	OwnershipChanges(ctx context.Context, since time.Time) ([]catalog.OwnershipChange, error)
}

// LoadOptions say what a snapshot covers.
type LoadOptions struct {
	// Since bounds the ownership history read for owner-changed: changes
	// recorded after Since. The zero value reads the whole history.
	Since time.Time
	// CodeOwnersMapping maps a CODEOWNERS owner as written ("@org/team",
	// "@login", "someone@example.com", compared case-insensitively) to an
	// entity ref. A Group's github.com/team-slug annotation wins over it.
	CodeOwnersMapping map[string]string
	// WithContainers loads the partOf relations, which filtering by system
	// or domain needs (Filter.NeedsContainers).
	WithContainers bool
	// Activity configures activity-owner-mismatch; without a History the
	// rule finds nothing and no history is read.
	Activity ActivityOptions
}

// Snapshot is the part of the catalog the rules read, loaded at once. It
// is read-only after Load and safe for concurrent readers.
type Snapshot struct {
	// Since is LoadOptions.Since.
	Since time.Time

	withContainers bool

	summaries []catalog.Summary
	index     map[string]int // canonical ref -> index in summaries
	groups    map[string]*catalog.Entity
	users     map[string]*catalog.Entity
	members   map[string][]string // group -> user refs, direct
	children  map[string][]string // group -> child group refs
	partOf    map[string][]string // entity -> system and domain refs
	sources   map[string]*source
	changes   []catalog.OwnershipChange

	activity  *activityState    // nil without ActivityOptions.History
	populated map[string]bool   // group -> has a member, directly or through children
	owners    *ownerResolver    // CODEOWNERS owner -> refs
	mapping   map[string]string // lower-case CODEOWNERS owner -> canonical ref
}

type source struct {
	catalog.Source
	codeOwners *catalog.CodeOwners // nil when the source has no CODEOWNERS file
}

// Load reads a snapshot from r: the sources first, then, concurrently,
// the summaries, the Group entities, the hasMember and parentOf relations
// (the store keeps both directions of each, so memberOf and childOf add
// nothing), the ownership history after opt.Since, and only when needed the
// User entities (CODEOWNERS names a user or an address) and the partOf
// relations (opt.WithContainers). Entities are read without their
// relations (catalog.Query.NoRelations): the rules read those from the
// relation lists, and a Group's inverse ownerOf relations alone would be
// one row per owned entity.
func Load(ctx context.Context, r Reader, opt LoadOptions) (*Snapshot, error) {
	s := &Snapshot{Since: opt.Since, withContainers: opt.WithContainers}
	sources, err := r.Sources(ctx)
	if err != nil {
		return nil, wrap("sources", err)
	}
	s.sources = make(map[string]*source, len(sources))
	needUsers := opt.Activity.History != nil // authors are matched to Users
	for _, src := range sources {
		so := &source{Source: src}
		if strings.TrimSpace(src.CodeOwners) != "" {
			co, err := catalog.ParseCodeOwners(strings.NewReader(src.CodeOwners))
			if err != nil {
				return nil, fmt.Errorf("drift: source %s: %w", src.Name, err)
			}
			so.codeOwners = co
			for _, rule := range co.Rules {
				for _, o := range rule.Owners {
					if !strings.HasPrefix(o, "@") || !strings.Contains(o, "/") {
						needUsers = true
					}
				}
			}
		}
		s.sources[src.Name] = so
	}

	var (
		groups, users       []*catalog.Entity
		hasMember, parentOf []catalog.Relation
		partOf              []catalog.Relation
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		s.summaries, err = r.Summaries(gctx)
		return wrap("summaries", err)
	})
	g.Go(func() (err error) {
		groups, err = r.Entities(gctx, catalog.Query{Kind: catalog.KindGroup, NoRelations: true})
		return wrap("groups", err)
	})
	if needUsers {
		g.Go(func() (err error) {
			users, err = r.Entities(gctx, catalog.Query{Kind: catalog.KindUser, NoRelations: true})
			return wrap("users", err)
		})
	}
	rels := map[string]*[]catalog.Relation{catalog.RelHasMember: &hasMember, catalog.RelParentOf: &parentOf}
	if opt.WithContainers {
		rels[catalog.RelPartOf] = &partOf
	}
	for typ, dst := range rels {
		g.Go(func() (err error) {
			*dst, err = r.RelationsOfType(gctx, typ)
			return wrap("relations "+typ, err)
		})
	}
	g.Go(func() (err error) {
		s.changes, err = r.OwnershipChanges(gctx, opt.Since)
		return wrap("ownership changes", err)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}

	s.index = make(map[string]int, len(s.summaries))
	for i := range s.summaries {
		s.index[s.summaries[i].Ref.String()] = i
	}
	s.groups = byRef(groups)
	s.users = byRef(users)
	s.members = map[string][]string{}
	for _, rel := range hasMember {
		k := rel.Source.String()
		s.members[k] = append(s.members[k], rel.Target.String())
	}
	s.children = map[string][]string{}
	for _, rel := range parentOf {
		k := rel.Source.String()
		s.children[k] = append(s.children[k], rel.Target.String())
	}
	s.partOf = make(map[string][]string, len(partOf))
	for _, rel := range partOf {
		k := rel.Source.String()
		s.partOf[k] = append(s.partOf[k], rel.Target.String())
	}
	s.mapping = make(map[string]string, len(opt.CodeOwnersMapping))
	for k, v := range opt.CodeOwnersMapping {
		ref, err := catalog.ParseRef(v, catalog.KindGroup, "")
		if err != nil {
			return nil, fmt.Errorf("drift: codeowners mapping %q: %w", k, err)
		}
		s.mapping[strings.ToLower(strings.TrimSpace(k))] = ref.String()
	}
	s.populated = s.computePopulated()
	s.owners = newOwnerResolver(s)
	if err := s.loadActivity(ctx, opt.Activity); err != nil {
		return nil, err
	}
	return s, nil
}

// Run loads a snapshot and reports on it: Load with what f needs, then
// Snapshot.Report.
func Run(ctx context.Context, r Reader, opt LoadOptions, rules []Rule, f Filter) ([]Finding, error) {
	opt.WithContainers = opt.WithContainers || f.NeedsContainers()
	s, err := Load(ctx, r, opt)
	if err != nil {
		return nil, err
	}
	return s.Report(rules, f)
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("drift: load %s: %w", what, err)
	}
	return nil
}

func byRef(es []*catalog.Entity) map[string]*catalog.Entity {
	m := make(map[string]*catalog.Entity, len(es))
	for _, e := range es {
		m[e.Ref().String()] = e
	}
	return m
}

// computePopulated marks every group that has a member who is a User
// entity of the catalog, directly or through any descendant group. A
// member relation to a user the catalog does not hold counts for nothing:
// nobody can be reached through it.
func (s *Snapshot) computePopulated() map[string]bool {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int, len(s.groups))
	out := make(map[string]bool, len(s.groups))
	var visit func(g string) bool
	visit = func(g string) bool {
		switch state[g] {
		case done:
			return out[g]
		case visiting:
			return false // a parent cycle adds nobody
		}
		state[g] = visiting
		has := false
		for _, u := range s.members[g] {
			if s.Exists(u) {
				has = true
				break
			}
		}
		for _, c := range s.children[g] {
			if visit(c) {
				has = true
			}
		}
		state[g] = done
		out[g] = has
		return has
	}
	for g := range s.groups {
		visit(g)
	}
	return out
}

// Summaries returns every entity's summary, sorted by canonical ref. The
// slice is shared: do not modify it.
func (s *Snapshot) Summaries() []catalog.Summary { return s.summaries }

// Summary returns the summary of the entity with canonical ref, and false
// when the catalog has none.
func (s *Snapshot) Summary(ref string) (catalog.Summary, bool) {
	i, ok := s.index[ref]
	if !ok {
		return catalog.Summary{}, false
	}
	return s.summaries[i], true
}

// Group returns the Group entity with canonical ref, or nil. The entity
// is shared: do not modify it.
func (s *Snapshot) Group(ref string) *catalog.Entity { return s.groups[ref] }

// Groups returns the canonical refs of every Group entity, in no order.
func (s *Snapshot) Groups() []string {
	out := make([]string, 0, len(s.groups))
	for g := range s.groups {
		out = append(out, g)
	}
	return out
}

// Exists reports whether the catalog holds an entity with canonical ref.
func (s *Snapshot) Exists(ref string) bool {
	_, ok := s.index[ref]
	return ok
}

// Populated reports whether the Group with canonical ref has a member,
// directly or through a child group; false for anything but a Group.
func (s *Snapshot) Populated(group string) bool { return s.populated[group] }

// Changes returns the ownership changes recorded after Since, oldest first.
func (s *Snapshot) Changes() []catalog.OwnershipChange { return s.changes }

// memberOf reports whether user is a member of group or of one of its
// descendants.
func (s *Snapshot) memberOf(user, group string) bool {
	seen := map[string]bool{}
	var walk func(g string) bool
	walk = func(g string) bool {
		if seen[g] {
			return false
		}
		seen[g] = true
		for _, u := range s.members[g] {
			if u == user {
				return true
			}
		}
		for _, c := range s.children[g] {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(group)
}

// containers returns the systems and domains ref belongs to: the targets
// of its partOf relations and, transitively, theirs (a component's system's
// domain, a subdomain's parent domain).
func (s *Snapshot) containers(ref string) []string {
	var out []string
	seen := map[string]bool{ref: true}
	queue := []string{ref}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, p := range s.partOf[r] {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
				queue = append(queue, p)
			}
		}
	}
	return out
}
