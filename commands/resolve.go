package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// maxNameInput bounds what is taken as an entity name. Backstage names are
// at most 63 characters and namespaces and kinds similar; anything much
// longer is not a name, and bounding it keeps fuzzy matching cheap.
const maxNameInput = 200

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
func (q nameQuery) matches(e *entry, kinds []string) bool {
	if q.namespace != "" && !strings.EqualFold(e.sum.Ref.Namespace, q.namespace) {
		return false
	}
	if q.kind != "" {
		return strings.EqualFold(e.sum.Ref.Kind, q.kind)
	}
	return kindAllowed(e.sum.Ref.Kind, kinds)
}

func kindAllowed(kind string, kinds []string) bool {
	if len(kinds) == 0 {
		return true
	}
	for _, k := range kinds {
		if strings.EqualFold(k, kind) {
			return true
		}
	}
	return false
}

// resolve finds the one entity arg names for command cmd. When it cannot,
// it returns a Reply with buttons (candidates of an ambiguous name, or the
// nearest names after a miss) and a UserError saying why.
func (h *handlers) resolve(ctx context.Context, cmd, arg string, kinds []string) (*snapshot, *entry, Reply, error) {
	s, err := h.idx.get(ctx)
	if err != nil {
		return nil, nil, Reply{}, err
	}
	if c := cleanArg(arg); len(c) <= maxNameInput && strings.ContainsAny(c, " \t\n") {
		return h.resolveWords(s, cmd, c, kinds)
	}
	q, err := parseNameQuery(arg)
	if err != nil {
		return s, nil, Reply{}, err
	}
	var found []int
	for _, i := range s.byName[q.name] {
		if q.matches(&s.entries[i], kinds) {
			found = append(found, i)
		}
	}
	if len(found) == 0 && q.kind == "" && q.namespace == "" {
		// Not a name; perhaps a one-word title ("Ledger").
		found = s.titled(q.name, kinds)
	}
	switch len(found) {
	case 1:
		return s, &s.entries[found[0]], Reply{}, nil
	case 0:
		rep, err := h.missReply(s, cmd, q, kinds)
		if len(rep.Buttons) == 0 && h.idx.unreachable() {
			// Nothing near the name in a snapshot the database cannot
			// confirm (built before the first sync, say): the entity may
			// well exist, so do not say it does not.
			return s, nil, Reply{}, fmt.Errorf("resolve %q: %w", q.raw, catalog.ErrUnavailable)
		}
		return s, nil, rep, err
	}
	rep, err := h.pickReply(s, cmd, q.raw, len(s.byName[q.name]) > 0, found)
	return s, nil, rep, err
}

// titled returns the entries of one of kinds (any when empty) whose title
// is t, ignoring case and repeated spaces.
func (s *snapshot) titled(t string, kinds []string) []int {
	var found []int
	for _, i := range s.byTitle[titleKey(t)] {
		if kindAllowed(s.entries[i].sum.Ref.Kind, kinds) {
			found = append(found, i)
		}
	}
	return found
}

// resolveWords finds the entity that words of several words name: its
// title ("Payments API"), its name written with spaces ("fraud detector"
// for fraud-detector), or else the one entity a search for the words
// finds. Several matches are offered as buttons; none, a search.
func (h *handlers) resolveWords(s *snapshot, cmd, words string, kinds []string) (*snapshot, *entry, Reply, error) {
	terms := strings.Fields(strings.ToLower(words))
	if len(terms) > maxSearchTerms {
		return s, nil, Reply{}, Userf("%q is not an entity name. To look for words, use search.", truncate(words, 60))
	}
	found := s.titled(words, kinds)
	if len(found) == 0 {
		for _, i := range s.byName[strings.Join(terms, "-")] {
			if kindAllowed(s.entries[i].sum.Ref.Kind, kinds) {
				found = append(found, i)
			}
		}
	}
	if len(found) == 0 {
		// Only the best few are worth offering; read a few more than
		// that so that other kinds do not crowd them out.
		hits, _ := s.find(terms, 4*maxSuggestions)
		for _, ht := range hits {
			if kindAllowed(s.entries[ht.i].sum.Ref.Kind, kinds) && len(found) < maxSuggestions {
				found = append(found, ht.i)
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
		return s, &s.entries[found[0]], Reply{}, nil
	}
	rep, err := h.pickReply(s, cmd, words, false, found)
	return s, nil, rep, err
}

// pickReply asks which of several entities found for what was typed the
// person meant, with a button for each; named says they all bear that
// name (rather than a title, or words of a search).
func (h *handlers) pickReply(s *snapshot, cmd, typed string, named bool, found []int) (Reply, error) {
	var rep Reply
	labels := make([]string, 0, len(found))
	for _, i := range found {
		if len(rep.Buttons) == maxCandidates {
			break
		}
		ref := s.entries[i].sum.Ref
		labels = append(labels, refLabel(ref))
		rep.Buttons = append(rep.Buttons, cmdButton(refLabel(ref), cmd+" "+ref.String()))
	}
	if named {
		return rep, Userf("Several entities are named %q: %s. Which one did you mean?", typed, strings.Join(labels, ", "))
	}
	return rep, Userf("Several entities match %q: %s. Which one did you mean?", truncate(typed, 60), strings.Join(labels, ", "))
}

// missReply explains that nothing is named q and offers the nearest names.
func (h *handlers) missReply(s *snapshot, cmd string, q nameQuery, kinds []string) (Reply, error) {
	var sugg []*entry
	seen := map[int]bool{}
	add := func(i int) {
		if !seen[i] && len(sugg) < maxSuggestions {
			seen[i] = true
			sugg = append(sugg, &s.entries[i])
		}
	}
	// The exact name under another kind or namespace comes first ("team
	// payments-api" when payments-api is a component).
	for _, i := range s.byName[q.name] {
		add(i)
	}
	for _, n := range s.near.nearest(q.name, maxSuggestions*3) {
		for _, i := range s.byName[n] {
			if q.matches(&s.entries[i], kinds) {
				add(i)
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
			labels[i] = refLabel(e.sum.Ref) // another kind than asked for: say which
		}
		rep.Buttons = append(rep.Buttons, cmdButton(labels[i], cmd+" "+e.sum.Ref.String()))
	}
	if len(labels) == 1 {
		return rep, Userf("I found no %s named %q. Did you mean %s?", what, q.rawName, labels[0])
	}
	return rep, Userf("I found no %s named %q. Did you mean one of these: %s?", what, q.rawName, strings.Join(labels, ", "))
}

// suggestionLabel names e as briefly as is unambiguous: the bare name when
// no other entity shares it, kind:name or kind:namespace/name otherwise.
func suggestionLabel(s *snapshot, e *entry) string {
	if len(s.byName[e.name]) == 1 && strings.EqualFold(e.sum.Ref.Namespace, catalog.DefaultNamespace) {
		return e.sum.Ref.Name
	}
	return refLabel(e.sum.Ref)
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
