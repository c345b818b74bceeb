package commands

import (
	"strings"
)

// phrase rewrites a question that starts with one of prefixes (and ends
// with one of suffixes, when any are given) into "<command> <rest>".
type phrase struct {
	command  string
	prefixes []string
	suffixes []string
}

// phrases are the questions people type instead of commands. Longer
// prefixes come first so "who is the owner of" wins over "who is".
var phrases = []phrase{
	{"owner", []string{"who is the owner of ", "who's the owner of ", "what team owns ", "which team owns ", "who owns ", "owner of ", "owners of ", "owner for ", "whose is ",
		"which team is responsible for ", "who is responsible for ", "who's responsible for ", "who maintains ", "who looks after ", "who runs "}, nil},
	{"oncall", []string{"who is on call for ", "who's on call for ", "who is oncall for ", "who's oncall for ", "who is on-call for ", "who's on-call for ", "on call for ", "oncall for ", "on-call for ", "on-call ", "on call "}, nil},
	{"docs", []string{"where are the docs for ", "where are the docs of ", "where is the documentation for ", "where is the documentation of ", "where are docs for ", "documentation for ", "documentation of ", "docs for ", "docs of ", "doc "}, nil},
	{"deps", []string{"what does ", "dependencies of ", "dependencies for ", "deps of ", "deps for ", "who depends on ", "what depends on "}, nil},
	{"team", []string{"who is in ", "who's in ", "members of ", "who is on team ", "tell me about team "}, nil},
	{"search", []string{"search for ", "find ", "look for "}, nil},
}

// depsSuffixes end a "what does X depend on" question.
var depsSuffixes = []string{" depend on", " depends on", " use", " call"}

// normalize turns a question into a command line: it drops politeness and
// punctuation around it and rewrites known phrasings ("who owns x",
// "where are the docs for x") to their command ("owner x", "docs x"). Text
// that is already a command, or that matches nothing, comes back trimmed.
func normalize(text string) string {
	t := strings.TrimSpace(text)
	t = strings.TrimLeft(t, "/!")
	t = strings.TrimSpace(strings.TrimRight(t, "?!. "))
	lower := strings.ToLower(t)
	for _, p := range []string{"please ", "hey ", "hi ", "can you tell me ", "could you tell me ", "tell me "} {
		if strings.HasPrefix(lower, p) {
			t, lower = strings.TrimSpace(t[len(p):]), strings.TrimSpace(lower[len(p):])
		}
	}
	for _, ph := range phrases {
		for _, p := range ph.prefixes {
			if !strings.HasPrefix(lower, p) {
				continue
			}
			rest := strings.TrimSpace(t[len(p):])
			if p == "what does " {
				cut := false
				for _, s := range depsSuffixes {
					if l := strings.ToLower(rest); strings.HasSuffix(l, s) {
						rest, cut = strings.TrimSpace(rest[:len(rest)-len(s)]), true
						break
					}
				}
				if !cut {
					continue
				}
			}
			rest = strings.TrimPrefix(rest, "the ")
			if ph.command == "team" {
				rest = strings.TrimSuffix(strings.TrimPrefix(rest, "team "), " team")
			}
			if rest == "" {
				continue
			}
			return ph.command + " " + rest
		}
	}
	return t
}

// argText returns the text after the command word.
func argText(req *Request) string {
	_, rest, _ := strings.Cut(strings.TrimSpace(req.Text), " ")
	return strings.TrimSpace(rest)
}
