package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/view"
)

// maxNameInput bounds what is taken as an entity name. Backstage names are
// at most 63 characters and namespaces and kinds similar; anything much
// longer is not a name, and bounding it keeps fuzzy matching cheap.
const maxNameInput = 200

// maxSuggestions bounds the names offered after a miss: enough to contain
// the one meant, few enough to read (and to fit Slack's five buttons in a
// row comfortably).
const maxSuggestions = 5

// maxCandidates bounds the buttons offered for an ambiguous name.
const maxCandidates = 10

// nameQuery is a parsed entity name as typed: name, kind:name,
// kind:namespace/name or namespace/name, all lower case.
type nameQuery struct {
	kind, namespace, name string
	raw                   string // as typed, trimmed
	rawName               string // the name part as typed, for messages
}

// cleanArg trims what people and chat clients put around a name: spaces,
// quotes, backticks, angle brackets and a final question mark.
func cleanArg(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, "?!.,;")
	s = strings.Trim(s, " \t\"'`<>*_")
	return strings.TrimSpace(s)
}

func parseNameQuery(s string) (nameQuery, error) {
	s = cleanArg(s)
	if s == "" {
		return nameQuery{}, Userf("Which entity? Give a name, kind:name or kind:namespace/name.")
	}
	if len(s) > maxNameInput || strings.ContainsAny(s, " \t\n") {
		return nameQuery{}, Userf("%q is not an entity name. To look for words, use search.", truncate(s, 60))
	}
	q := nameQuery{raw: s}
	rest := strings.ToLower(s)
	if k, r, ok := strings.Cut(rest, ":"); ok {
		q.kind, rest = k, r
	}
	if ns, r, ok := strings.Cut(rest, "/"); ok {
		q.namespace, rest = ns, r
	}
	q.name = rest
	q.rawName = s[len(s)-len(rest):]
	if q.name == "" || strings.ContainsAny(q.name, ":/") || (q.kind == "" && strings.HasPrefix(s, ":")) {
		return nameQuery{}, Userf("%q is not an entity name; write name, kind:name or kind:namespace/name.", truncate(s, 60))
	}
	return q, nil
}

// matches reports whether e fits the kind and namespace the query names, and
// when it names no kind, one of kinds (all kinds when kinds is empty).
func (q nameQuery) matches(e *view.Entry, kinds []string) bool {
	r := e.Ref()
	if q.namespace != "" && !strings.EqualFold(r.Namespace, q.namespace) {
		return false
	}
	if q.kind != "" {
		return strings.EqualFold(r.Kind, q.kind)
	}
	return view.KindIn(r.Kind, kinds)
}

// resolve finds the one entity arg names for command cmd, in the snapshot
// of the catalog it returns. When it cannot, it returns a Reply with
// buttons (candidates of an ambiguous name, or the nearest names after a
// miss) and a UserError saying why.
func (h *handlers) resolve(ctx context.Context, cmd, arg string, kinds []string) (view.Snapshot, *view.Entry, Reply, error) {
	s, err := h.view.Snapshot(ctx)
	if err != nil {
		return s, nil, Reply{}, err
	}
	if c := cleanArg(arg); len(c) <= maxNameInput && strings.ContainsAny(c, " \t\n") {
		return h.resolveWords(s, cmd, c, kinds)
	}
	q, err := parseNameQuery(arg)
	if err != nil {
		return s, nil, Reply{}, err
	}
	var found []*view.Entry
	named := s.Named(q.name)
	for i := range named.Len() {
		if e := named.At(i); q.matches(e, kinds) {
			found = append(found, e)
		}
	}
	if len(found) == 0 && q.kind == "" && q.namespace == "" {
		// Not a name; perhaps a one-word title ("Ledger").
		found = titled(s, q.name, kinds)
	}
	switch len(found) {
	case 1:
		return s, found[0], Reply{}, nil
	case 0:
		rep, err := h.missReply(s, cmd, q, kinds)
		if len(rep.Buttons) == 0 && h.view.Unreachable() {
			// Nothing near the name in a snapshot the database cannot
			// confirm (built before the first sync, say): the entity may
			// well exist, so do not say it does not.
			return s, nil, Reply{}, fmt.Errorf("resolve %q: %w", q.raw, catalog.ErrUnavailable)
		}
		return s, nil, rep, err
	}
	rep, err := h.pickReply(cmd, q.raw, named.Len() > 0, found)
	return s, nil, rep, err
}

// titled returns the entries of one of kinds (any when empty) whose title
// is t, ignoring case and repeated spaces.
func titled(s view.Snapshot, t string, kinds []string) []*view.Entry {
	var found []*view.Entry
	l := s.Titled(t)
	for i := range l.Len() {
		if e := l.At(i); view.KindIn(e.Ref().Kind, kinds) {
			found = append(found, e)
		}
	}
	return found
}

// resolveWords finds the entity that words of several words name: its
// title ("Payments API"), its name written with spaces ("fraud detector"
// for fraud-detector), or else the one entity a search for the words
// finds. Several matches are offered as buttons; none, a search.
func (h *handlers) resolveWords(s view.Snapshot, cmd, words string, kinds []string) (view.Snapshot, *view.Entry, Reply, error) {
	terms := strings.Fields(strings.ToLower(words))
	if len(terms) > maxSearchTerms {
		return s, nil, Reply{}, Userf("%q is not an entity name. To look for words, use search.", truncate(words, 60))
	}
	found := titled(s, words, kinds)
	if len(found) == 0 {
		named := s.Named(strings.Join(terms, "-"))
		for i := range named.Len() {
			if e := named.At(i); view.KindIn(e.Ref().Kind, kinds) {
				found = append(found, e)
			}
		}
	}
	if len(found) == 0 {
		// Only the best few are worth offering; read a few more than
		// that so that other kinds do not crowd them out.
		hits, _ := s.Search(terms, 4*maxSuggestions)
		for _, e := range hits {
			if view.KindIn(e.Ref().Kind, kinds) && len(found) < maxSuggestions {
				found = append(found, e)
			}
		}
	}
	switch len(found) {
	case 0:
		what := "entity"
		if len(kinds) == 1 {
			what = strings.ToLower(kinds[0])
		}
		q := strings.Join(terms, " ")
		return s, nil, Reply{Buttons: []Button{cmdButton("search "+q, "search "+q)}},
			Userf("I found no %s named or titled %q. Try \"search %s\" to look through descriptions, tags and owners too.", what, truncate(words, 60), truncate(q, 60))
	case 1:
		return s, found[0], Reply{}, nil
	}
	rep, err := h.pickReply(cmd, words, false, found)
	return s, nil, rep, err
}

// pickReply asks which of several entities found for what was typed the
// person meant, with a button for each; named says they all bear that
// name (rather than a title, or words of a search).
func (h *handlers) pickReply(cmd, typed string, named bool, found []*view.Entry) (Reply, error) {
	var rep Reply
	labels := make([]string, 0, len(found))
	for _, e := range found {
		if len(rep.Buttons) == maxCandidates {
			break
		}
		ref := e.Ref()
		labels = append(labels, refLabel(ref))
		rep.Buttons = append(rep.Buttons, cmdButton(refLabel(ref), cmd+" "+ref.String()))
	}
	if named {
		return rep, Userf("Several entities are named %q: %s. Which one did you mean?", typed, strings.Join(labels, ", "))
	}
	return rep, Userf("Several entities match %q: %s. Which one did you mean?", truncate(typed, 60), strings.Join(labels, ", "))
}

// missReply explains that nothing is named q and offers the nearest names.
func (h *handlers) missReply(s view.Snapshot, cmd string, q nameQuery, kinds []string) (Reply, error) {
	var sugg []*view.Entry
	seen := map[*view.Entry]bool{}
	add := func(e *view.Entry) {
		if !seen[e] && len(sugg) < maxSuggestions {
			seen[e] = true
			sugg = append(sugg, e)
		}
	}
	// The exact name under another kind or namespace comes first ("team
	// payments-api" when payments-api is a component).
	named := s.Named(q.name)
	for i := range named.Len() {
		add(named.At(i))
	}
	for _, n := range s.Nearest(q.name, maxSuggestions*3) {
		near := s.Named(n)
		for i := range near.Len() {
			if e := near.At(i); q.matches(e, kinds) {
				add(e)
			}
		}
	}
	what := "entity"
	if q.kind != "" {
		what = strings.ToLower(q.kind)
	} else if len(kinds) == 1 {
		what = strings.ToLower(kinds[0])
	}
	if len(sugg) == 0 {
		return Reply{}, Userf("I found no %s named %q, and nothing with a similar name. Try \"search %s\" to look through titles, descriptions, tags and owners.", what, q.rawName, q.name)
	}
	var rep Reply
	labels := make([]string, len(sugg))
	for i, e := range sugg {
		labels[i] = suggestionLabel(s, e)
		if !q.matches(e, kinds) {
			labels[i] = refLabel(e.Ref()) // another kind than asked for: say which
		}
		rep.Buttons = append(rep.Buttons, cmdButton(labels[i], cmd+" "+e.Ref().String()))
	}
	if len(labels) == 1 {
		return rep, Userf("I found no %s named %q. Did you mean %s?", what, q.rawName, labels[0])
	}
	return rep, Userf("I found no %s named %q. Did you mean one of these: %s?", what, q.rawName, strings.Join(labels, ", "))
}

// suggestionLabel names e as briefly as is unambiguous: the bare name when
// no other entity shares it, kind:name or kind:namespace/name otherwise.
func suggestionLabel(s view.Snapshot, e *view.Entry) string {
	if s.Named(e.Name()).Len() == 1 && strings.EqualFold(e.Ref().Namespace, catalog.DefaultNamespace) {
		return e.Ref().Name
	}
	return refLabel(e.Ref())
}

// refLabel is kind:name, or kind:namespace/name outside the default
// namespace: short, and accepted back as a command argument.
func refLabel(r catalog.Ref) string {
	return strings.ToLower(r.Kind) + ":" + r.Display()
}

// cmdButton is a button that runs command text when clicked.
func cmdButton(text, command string) Button {
	return Button{Text: text, Action: ActionRun, Value: command}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// describe is a short human name for an entity: its title, or its name.
func describe(e *catalog.Entity) string {
	if e.Metadata.Title != "" {
		return e.Metadata.Title
	}
	return e.Metadata.Name
}

// entity loads e's full entity, from the view's cache when it holds e at
// s's generation. A ref the snapshot still lists but the store no longer
// has was removed by a sync a moment ago.
func (h *handlers) entity(ctx context.Context, s view.Snapshot, e *view.Entry) (*catalog.Entity, error) {
	got, err := s.Load(ctx, []catalog.Ref{e.Ref()})
	if err != nil {
		return nil, err
	}
	ent := got[e.Key()]
	if ent == nil {
		return nil, Userf("%s was removed from the catalog a moment ago.", refLabel(e.Ref()))
	}
	return ent, nil
}

// entityWithoutRelations is entity for an answer that reads none of e's
// relations (view.Snapshot.LoadWithoutRelations): they are absent unless
// the view's cache held the entity.
func (h *handlers) entityWithoutRelations(ctx context.Context, s view.Snapshot, e *view.Entry) (*catalog.Entity, error) {
	ent, err := s.LoadWithoutRelations(ctx, e.Ref())
	if err != nil {
		return nil, err
	}
	if ent == nil {
		return nil, Userf("%s was removed from the catalog a moment ago.", refLabel(e.Ref()))
	}
	return ent, nil
}

// subject resolves the entity a command names (its argument) and loads it,
// returning the snapshot it was resolved in. When the name does not
// resolve, rep is the answer to give (candidates or "did you mean") and
// err says why.
func (h *handlers) subject(ctx context.Context, cmd string, req *Request) (view.Snapshot, *catalog.Entity, Reply, error) {
	s, e, rep, err := h.resolve(ctx, cmd, argText(req), nil)
	if err != nil {
		return s, nil, rep, err
	}
	ent, err := h.entity(ctx, s, e)
	if err != nil {
		return s, nil, Reply{}, err
	}
	return s, ent, Reply{}, nil
}
