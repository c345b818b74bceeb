package commands

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/catalog/view"
)

// Search limits: results listed, and query terms accepted (a pasted
// paragraph is not a query; every term is matched against every
// candidate).
const (
	maxResults     = 10
	maxSearchTerms = 8
)

func (h *handlers) search(ctx context.Context, req *Request) (view.Snapshot, Reply, error) {
	q := strings.ToLower(strings.TrimSpace(argText(req)))
	terms := strings.Fields(strings.Trim(q, "\"'`?"))
	if len(terms) == 0 {
		return view.Snapshot{}, Reply{}, Userf("Search for what? For example: search payments")
	}
	if len(terms) > maxSearchTerms {
		return view.Snapshot{}, Reply{}, Userf("That search has %d words; I look for up to %d at a time. Keep the few that matter most, for example: search payments api.", len(terms), maxSearchTerms)
	}
	s, err := h.view.Snapshot(ctx)
	if err != nil {
		return s, Reply{}, err
	}
	hits, total := s.Search(terms, maxResults)
	var took []string
	if total == 0 {
		// Nothing as typed: try again allowing a typo or two per word.
		hits, total, took = s.SearchNear(terms, maxResults)
	}
	query := strings.Join(terms, " ")
	rep := Reply{MoreURL: h.portal + "/search?query=" + url.QueryEscape(query)}
	if total == 0 {
		rep.Text = "Nothing in the catalog matches \"" + truncate(query, 60) + "\" in its name, title, description, tags or owner."
		// A misspelt name still deserves a suggestion.
		if len(terms) == 1 {
			if sugg := s.Nearest(terms[0], maxSuggestions); len(sugg) > 0 {
				rep.Text += " Similar names: " + strings.Join(sugg, ", ") + "."
				for _, n := range sugg {
					rep.Buttons = append(rep.Buttons, cmdButton(n, "search "+n))
				}
			}
		}
		rep.Links = []Link{{Text: "Search the portal", URL: rep.MoreURL}}
		return s, rep, nil
	}
	rep.Title = strconv.Itoa(total) + " " + plural(total, "match") + " for \"" + truncate(query, 60) + "\""
	for _, e := range hits {
		sm := e.Summary()
		f := Field{Name: refLabel(sm.Ref) + titleSuffix(*sm), URL: h.entityURL(sm.Ref)}
		var bits []string
		if sm.Owner != "" {
			bits = append(bits, "owner "+strings.TrimPrefix(sm.Owner, "group:default/"))
		}
		if sm.Description != "" {
			bits = append(bits, truncate(sm.Description, 100))
		}
		f.Value = strings.Join(bits, " · ")
		if f.Value == "" {
			f.Value = strings.ToLower(sm.Ref.Kind)
		}
		rep.Fields = append(rep.Fields, f)
	}
	var notes []string
	if len(took) > 0 {
		notes = append(notes, "Nothing matches \""+truncate(query, 60)+"\" as typed; showing near matches ("+strings.Join(took, ", ")+").")
	}
	if total > maxResults {
		notes = append(notes, "Showing the best "+strconv.Itoa(maxResults)+".")
	}
	rep.Text = strings.Join(notes, " ")
	rep.Links = []Link{{Text: "Search the portal", URL: rep.MoreURL}}
	return s, rep, nil
}
