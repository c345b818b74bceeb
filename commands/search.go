package commands

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Search limits: results listed, and query terms accepted (a pasted
// paragraph is not a query; every term is matched against every
// candidate).
const (
	maxResults     = 10
	maxSearchTerms = 8
)

func (h *handlers) search(ctx context.Context, req *Request) (Reply, error) {
	q := strings.ToLower(strings.TrimSpace(argText(req)))
	terms := strings.Fields(strings.Trim(q, "\"'`?"))
	if len(terms) == 0 {
		return Reply{}, Userf("Search for what? For example: search payments")
	}
	if len(terms) > maxSearchTerms {
		return Reply{}, Userf("That search has %d words; I look for up to %d at a time. Keep the few that matter most, for example: search payments api.", len(terms), maxSearchTerms)
	}
	s, err := h.idx.get(ctx)
	if err != nil {
		return Reply{}, err
	}
	hits, total := s.find(terms, maxResults)
	query := strings.Join(terms, " ")
	rep := Reply{MoreURL: h.portal + "/search?query=" + url.QueryEscape(query)}
	if total == 0 {
		rep.Text = "Nothing in the catalog matches \"" + truncate(query, 60) + "\" in its name, title, description, tags or owner."
		// A misspelt name still deserves a suggestion.
		if len(terms) == 1 {
			if sugg := s.near.nearest(terms[0], maxSuggestions); len(sugg) > 0 {
				rep.Text += " Similar names: " + strings.Join(sugg, ", ") + "."
				for _, n := range sugg {
					rep.Buttons = append(rep.Buttons, cmdButton(n, "search "+n))
				}
			}
		}
		rep.Links = []Link{{Text: "Search the portal", URL: rep.MoreURL}}
		return rep, nil
	}
	rep.Title = strconv.Itoa(total) + " " + plural(total, "match") + " for \"" + truncate(query, 60) + "\""
	for _, ht := range hits {
		e := &s.entries[ht.i]
		f := Field{Name: refLabel(e.sum.Ref) + titleSuffix(e.sum), URL: h.entityURL(e.sum.Ref)}
		var bits []string
		if e.sum.Owner != "" {
			bits = append(bits, "owner "+strings.TrimPrefix(e.sum.Owner, "group:default/"))
		}
		if e.sum.Description != "" {
			bits = append(bits, truncate(e.sum.Description, 100))
		}
		f.Value = strings.Join(bits, " · ")
		if f.Value == "" {
			f.Value = strings.ToLower(e.sum.Ref.Kind)
		}
		rep.Fields = append(rep.Fields, f)
	}
	if total > maxResults {
		rep.Text = "Showing the best " + strconv.Itoa(maxResults) + "."
	}
	rep.Links = []Link{{Text: "Search the portal", URL: rep.MoreURL}}
	return rep, nil
}

// score says how well term matches the entry, 0 for not at all. Names weigh
// most, then titles, tags, owner and description.
func (e *entry) score(t string) int {
	best := 0
	up := func(v int) {
		if v > best {
			best = v
		}
	}
	switch {
	case e.name == t:
		up(100)
	case strings.HasPrefix(e.name, t):
		up(70)
	case strings.Contains(e.name, t):
		up(50)
	}
	if e.title != "" {
		if e.title == t {
			up(80)
		} else if strings.Contains(e.title, t) {
			up(40)
		}
	}
	for _, tag := range e.tags {
		if tag == t {
			up(45)
		} else if strings.HasPrefix(tag, t) {
			up(25)
		}
	}
	if e.owner != "" {
		if e.owner == t {
			up(35)
		} else if strings.Contains(e.owner, t) {
			up(20)
		}
	}
	if strings.Contains(e.desc, t) {
		up(15)
	}
	return best
}

// hit is one search match: an entries index and its score.
type hit struct{ i, score int }

// find returns the best k entries matching every term, best first, and
// how many match in all.
func (s *snapshot) find(terms []string, k int) ([]hit, int) {
	var hits []hit
	score := func(i int) {
		total := 0
		for _, t := range terms {
			sc := s.entries[i].score(t)
			if sc == 0 {
				total = 0
				break
			}
			total += sc
		}
		if total > 0 {
			hits = append(hits, hit{i, total})
		}
	}
	if ids, all := s.text.candidates(terms); all {
		for i := range s.entries {
			score(i)
		}
	} else {
		for _, i := range ids {
			score(int(i))
		}
	}
	better := func(a, b hit) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return s.less(a.i, b.i)
	}
	// Only the best k are shown: keep those in order rather than
	// sort every hit of a common word.
	total := len(hits)
	top := make([]hit, 0, k)
	for _, ht := range hits {
		if len(top) == k && !better(ht, top[len(top)-1]) {
			continue
		}
		pos := sort.Search(len(top), func(j int) bool { return better(ht, top[j]) })
		if len(top) < k {
			top = append(top, hit{})
		}
		copy(top[pos+1:], top[pos:len(top)-1])
		top[pos] = ht
	}
	return top, total
}
