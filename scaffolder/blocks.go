package scaffolder

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Skeleton files (fetch:template) are Nunjucks templates with Backstage's
// ${{ }} variable marker: besides expressions they hold {% if %} and
// {% for %} blocks, {% set %}, {% raw %} and {# comments #}, and "-" on a
// tag's edge trims the whitespace beside it. This file parses that subset
// into a tree and runs it under a budget of steps and output bytes, so a
// hostile skeleton cannot loop or grow without end.

// Limits on one rendered template.
const (
	// maxTemplateSteps bounds the nodes run and loop iterations of one
	// template: the largest skeletons in the corpus use a few hundred.
	maxTemplateSteps = 100_000
	maxBlockDepth    = 32
)

type nodeKind int

const (
	nText nodeKind = iota
	nExpr
	nIf
	nFor
	nSet
)

// node is one piece of a parsed template.
type node struct {
	kind nodeKind
	text string // nText: the text; nExpr, nSet: the expression
	// nIf: conds[i] guards bodies[i]; a final body past the conds is
	// the else branch.
	conds  []string
	bodies [][]node
	// nFor: loop variables (one, or key and value), the list expression,
	// the body and the optional else body run when the list is empty.
	vars []string
	body []node
	els  []node
}

// tmplTag is a lexed {% %} tag or ${{ }} expression.
type tmplTag struct {
	expr bool   // ${{ }} rather than {% %}
	body string // trimmed contents
}

// renderTemplate renders a skeleton file's text with scope, which it does
// not modify. It stops when ctx ends.
func renderTemplate(ctx context.Context, s string, scope exprScope) (string, error) {
	if !strings.Contains(s, "{%") && !strings.Contains(s, "{#") {
		return renderText(s, scope)
	}
	items, err := lexTemplate(s)
	if err != nil {
		return "", err
	}
	tp := &tmplParser{items: items}
	nodes, err := tp.parse(0)
	if err != nil {
		return "", err
	}
	if tp.pos < len(tp.items) {
		return "", fmt.Errorf("unexpected {%% %s %%}", tp.items[tp.pos].(tmplTag).body)
	}
	// A copy, so that {% set %} in one file is not seen by the next.
	top := make(exprScope, len(scope))
	for k, v := range scope {
		top[k] = v
	}
	ex := &tmplExec{steps: maxTemplateSteps}
	if err := ex.run(ctx, nodes, top); err != nil {
		return "", err
	}
	return ex.out.String(), nil
}

// lexTemplate splits s into text (string) and tags (tmplTag), applying
// the "-" whitespace trimming of {%- and -%} and dropping comments.
func lexTemplate(s string) ([]any, error) {
	var items []any
	trimNext := false
	for len(s) > 0 {
		i := indexAny3(s, "${{", "{%", "{#")
		if i < 0 {
			items = appendText(items, s, trimNext)
			break
		}
		text := s[:i]
		rest := s[i:]
		var open, close string
		switch {
		case strings.HasPrefix(rest, "${{"):
			open, close = "${{", "}}"
		case strings.HasPrefix(rest, "{%"):
			open, close = "{%", "%}"
		default:
			open, close = "{#", "#}"
		}
		inner := rest[len(open):]
		if strings.HasPrefix(inner, "-") {
			text = strings.TrimRight(text, " \t\r\n")
			inner = inner[1:]
		}
		items = appendText(items, text, trimNext)
		j := strings.Index(inner, close)
		if j < 0 {
			return nil, fmt.Errorf("unterminated %s in %q", open, abbrev(rest))
		}
		body := inner[:j]
		s = inner[j+len(close):]
		trimNext = strings.HasSuffix(body, "-")
		if trimNext {
			body = body[:len(body)-1]
		}
		body = strings.TrimSpace(body)
		switch open {
		case "${{":
			items = append(items, tmplTag{expr: true, body: body})
		case "{%":
			if body == "raw" {
				k := strings.Index(s, "{% endraw %}")
				if k < 0 {
					return nil, fmt.Errorf("{%% raw %%} without {%% endraw %%}")
				}
				items = append(items, s[:k])
				s = s[k+len("{% endraw %}"):]
				trimNext = false
				continue
			}
			items = append(items, tmplTag{body: body})
		}
	}
	return items, nil
}

func appendText(items []any, text string, trimLeft bool) []any {
	if trimLeft {
		text = strings.TrimLeft(text, " \t\r\n")
	}
	if text == "" {
		return items
	}
	return append(items, text)
}

// indexAny3 returns the first index of any of a, b, c in s, or -1.
func indexAny3(s, a, b, c string) int {
	best := -1
	for _, m := range []string{a, b, c} {
		if i := strings.Index(s, m); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

type tmplParser struct {
	items []any
	pos   int
}

// word returns the first word of a tag and the rest.
func word(body string) (string, string) {
	w, rest, _ := strings.Cut(body, " ")
	return w, strings.TrimSpace(rest)
}

// parse reads nodes until a tag that closes the enclosing block (left
// unconsumed for the caller) or the end.
func (tp *tmplParser) parse(depth int) ([]node, error) {
	if depth > maxBlockDepth {
		return nil, fmt.Errorf("blocks nested more than %d deep", maxBlockDepth)
	}
	var out []node
	for tp.pos < len(tp.items) {
		switch it := tp.items[tp.pos].(type) {
		case string:
			out = append(out, node{kind: nText, text: it})
			tp.pos++
			continue
		case tmplTag:
			if it.expr {
				out = append(out, node{kind: nExpr, text: it.body})
				tp.pos++
				continue
			}
			w, rest := word(it.body)
			switch w {
			case "elif", "elseif", "else", "endif", "endfor":
				return out, nil
			case "if":
				tp.pos++
				n, err := tp.parseIf(rest, depth)
				if err != nil {
					return nil, err
				}
				out = append(out, n)
			case "for":
				tp.pos++
				n, err := tp.parseFor(rest, depth)
				if err != nil {
					return nil, err
				}
				out = append(out, n)
			case "set":
				name, expr, ok := strings.Cut(rest, "=")
				name = strings.TrimSpace(name)
				if !ok || !isName(name) {
					return nil, fmt.Errorf("want {%% set name = expression %%}, got {%% %s %%}", it.body)
				}
				out = append(out, node{kind: nSet, vars: []string{name}, text: strings.TrimSpace(expr)})
				tp.pos++
			default:
				return nil, fmt.Errorf("unsupported tag {%% %s %%}", abbrev(it.body))
			}
		}
	}
	return out, nil
}

// closer consumes the tag that ended a block body and returns its first
// word and the rest, or an error naming what was expected.
func (tp *tmplParser) closer(want string) (string, string, error) {
	if tp.pos >= len(tp.items) {
		return "", "", fmt.Errorf("missing {%% %s %%}", want)
	}
	w, rest := word(tp.items[tp.pos].(tmplTag).body)
	tp.pos++
	return w, rest, nil
}

func (tp *tmplParser) parseIf(cond string, depth int) (node, error) {
	n := node{kind: nIf}
	for {
		body, err := tp.parse(depth + 1)
		if err != nil {
			return n, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		w, rest, err := tp.closer("endif")
		if err != nil {
			return n, err
		}
		switch w {
		case "elif", "elseif":
			cond = rest
			continue
		case "else":
			els, err := tp.parse(depth + 1)
			if err != nil {
				return n, err
			}
			n.bodies = append(n.bodies, els)
			if w, _, err := tp.closer("endif"); err != nil || w != "endif" {
				return n, fmt.Errorf("missing {%% endif %%}")
			}
			return n, nil
		case "endif":
			return n, nil
		}
		return n, fmt.Errorf("{%% %s %%} inside {%% if %%}", w)
	}
}

func (tp *tmplParser) parseFor(header string, depth int) (node, error) {
	vars, expr, ok := strings.Cut(header, " in ")
	n := node{kind: nFor, text: strings.TrimSpace(expr)}
	for _, v := range strings.Split(vars, ",") {
		n.vars = append(n.vars, strings.TrimSpace(v))
	}
	if !ok || len(n.vars) > 2 || !isName(n.vars[0]) || (len(n.vars) == 2 && !isName(n.vars[1])) {
		return n, fmt.Errorf("want {%% for x in list %%} or {%% for key, value in map %%}, got {%% for %s %%}", abbrev(header))
	}
	body, err := tp.parse(depth + 1)
	if err != nil {
		return n, err
	}
	n.body = body
	w, _, err := tp.closer("endfor")
	if err != nil {
		return n, err
	}
	if w == "else" {
		if n.els, err = tp.parse(depth + 1); err != nil {
			return n, err
		}
		w, _, err = tp.closer("endfor")
		if err != nil {
			return n, err
		}
	}
	if w != "endfor" {
		return n, fmt.Errorf("{%% %s %%} inside {%% for %%}", w)
	}
	return n, nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == utf8.RuneError || !isIdentRune(r, utf8.RuneLen(r)) || (i == 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// tmplExec runs a parsed template.
type tmplExec struct {
	out   strings.Builder
	steps int // left before the template is refused
}

func (ex *tmplExec) step(ctx context.Context) error {
	ex.steps--
	if ex.steps < 0 {
		return fmt.Errorf("template takes more than %d steps", maxTemplateSteps)
	}
	return ctx.Err()
}

func (ex *tmplExec) write(s string) error {
	if ex.out.Len()+len(s) > maxRenderedBytes {
		return fmt.Errorf("rendered text larger than %d bytes", maxRenderedBytes)
	}
	ex.out.WriteString(s)
	return nil
}

func (ex *tmplExec) run(ctx context.Context, nodes []node, scope exprScope) error {
	for _, n := range nodes {
		if err := ex.step(ctx); err != nil {
			return err
		}
		switch n.kind {
		case nText:
			if err := ex.write(n.text); err != nil {
				return err
			}
		case nExpr:
			v, err := eval(n.text, scope)
			if err != nil {
				return err
			}
			if err := ex.write(toString(v)); err != nil {
				return err
			}
		case nSet:
			v, err := eval(n.text, scope)
			if err != nil {
				return err
			}
			// A set in a loop body changes the loop's copy only, as the
			// scope is copied per iteration below.
			scope[n.vars[0]] = v
		case nIf:
			for i, body := range n.bodies {
				if i < len(n.conds) {
					c, err := eval(n.conds[i], scope)
					if err != nil {
						return err
					}
					if !truthy(c) {
						continue
					}
				}
				if err := ex.run(ctx, body, scope); err != nil {
					return err
				}
				break
			}
		case nFor:
			if err := ex.loop(ctx, n, scope); err != nil {
				return err
			}
		}
	}
	return nil
}

// loop runs a for block: over a list's items, or over a map's keys in
// sorted order (Go maps have no order; Nunjucks follows insertion order,
// which YAML decoding has already lost).
func (ex *tmplExec) loop(ctx context.Context, n node, scope exprScope) error {
	v, err := eval(n.text, scope)
	if err != nil {
		return err
	}
	type pair struct{ k, v any }
	var items []pair
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			items = append(items, pair{nil, e})
		}
	case []string:
		for _, e := range x {
			items = append(items, pair{nil, e})
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			items = append(items, pair{k, x[k]})
		}
	}
	if len(items) == 0 {
		return ex.run(ctx, n.els, scope)
	}
	for i, it := range items {
		if err := ex.step(ctx); err != nil {
			return err
		}
		inner := make(exprScope, len(scope)+3)
		for k, e := range scope {
			inner[k] = e
		}
		if len(n.vars) == 2 {
			inner[n.vars[0]], inner[n.vars[1]] = it.k, it.v
		} else if it.k != nil {
			inner[n.vars[0]] = it.k
		} else {
			inner[n.vars[0]] = it.v
		}
		inner["loop"] = map[string]any{
			"index": float64(i + 1), "index0": float64(i), "first": i == 0,
			"last": i == len(items)-1, "length": float64(len(items)),
		}
		if err := ex.run(ctx, n.body, inner); err != nil {
			return err
		}
	}
	return nil
}
