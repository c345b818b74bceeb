// One grammar in one file (over 500 lines): the lexer, parser and evaluator of Backstage's
// ${{ }} expressions and their filters.

package scaffolder

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Template expressions are the ${{ … }} parts of a template (Backstage
// evaluates them with Nunjucks). This is a small evaluator for the subset
// templates use: paths into the scope (parameters.x, values.x,
// steps.id.output.y, secrets.x, user.entity.x), literals, comparisons,
// and/or/not, inline if/else, the ternary, and a fixed list of pure filters.
// Nothing can call code, reach outside the scope or loop.

// Limits that keep hostile templates cheap.
const (
	maxExprLen   = 4096
	maxExprDepth = 64
)

// exprScope is what expressions can read.
type exprScope map[string]any

// eval evaluates one expression (the text between ${{ and }}).
func eval(expr string, scope exprScope) (any, error) {
	if len(expr) > maxExprLen {
		return nil, fmt.Errorf("expression longer than %d bytes", maxExprLen)
	}
	toks, err := lex(expr)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", abbrev(expr), err)
	}
	p := &parser{toks: toks, scope: scope}
	v, err := p.ternary()
	if err == nil && p.peek().kind != tEOF {
		err = fmt.Errorf("unexpected %q", p.peek().text)
	}
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", abbrev(expr), err)
	}
	return v, nil
}

func abbrev(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNum
	tStr
	tOp
)

type token struct {
	kind tokKind
	text string
	num  float64
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(s[j])
					}
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, token{kind: tStr, text: b.String()})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			n, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", s[i:j])
			}
			out = append(out, token{kind: tNum, text: s[i:j], num: n})
			i = j
		case c == '_' || c == '$' || c >= utf8.RuneSelf || unicode.IsLetter(rune(c)):
			// Identifiers may hold any Unicode letter, as in Nunjucks. The
			// scan decodes whole runes and must consume at least the first
			// one: a start byte the loop below would not accept used to
			// leave i unchanged and spin forever.
			j := i
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if !isIdentRune(r, size) {
					break
				}
				j += size
			}
			if j == i {
				return nil, fmt.Errorf("unexpected character %q", s[i:i+1])
			}
			r, _ := utf8.DecodeRuneInString(s[i:])
			if unicode.IsDigit(r) {
				return nil, fmt.Errorf("unexpected character %q", string(r))
			}
			out = append(out, token{kind: tIdent, text: s[i:j]})
			i = j
		default:
			op := ""
			for _, o := range []string{"===", "!==", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ".", ",", "|", "!", "<", ">", "?", ":", "~", "+"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unexpected character %q", c)
			}
			out = append(out, token{kind: tOp, text: op})
			i += len(op)
		}
	}
	return append(out, token{kind: tEOF}), nil
}

// isIdentRune reports whether r, decoded from size bytes, may appear in an
// identifier. Invalid UTF-8 (RuneError of size 1) may not.
func isIdentRune(r rune, size int) bool {
	if r == utf8.RuneError && size <= 1 {
		return false
	}
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

type parser struct {
	toks  []token
	pos   int
	depth int
	scope exprScope
	// skip counts the enclosing branches that are parsed but not taken;
	// while it is above zero no filter runs.
	skip int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == s
}

func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == s
}

func (p *parser) expect(op string) error {
	if !p.isOp(op) {
		return fmt.Errorf("want %q, got %q", op, p.peek().text)
	}
	p.next()
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return fmt.Errorf("nested too deeply")
	}
	return nil
}

// ternary := or ( "if" or ( "else" ternary )? | "?" ternary ":" ternary )?
//
// Only the branch taken is evaluated, as in Nunjucks: templates guard a
// filter that fails on a missing value with "x | f if x else y". The
// Python-style form names its value before its condition, so the value is
// first parsed without being evaluated, then parsed again if the condition
// holds.
func (p *parser) ternary() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	start := p.pos
	var v any
	var err error
	if p.lookaheadIf() {
		v, err = p.lazy(false, p.or)
	} else {
		v, err = p.or()
	}
	if err != nil {
		return nil, err
	}
	switch {
	case p.isWord("if"):
		p.next()
		cond, err := p.or()
		if err != nil {
			return nil, err
		}
		ok := truthy(cond)
		var alt any
		if p.isWord("else") {
			p.next()
			if alt, err = p.lazy(!ok, p.ternary); err != nil {
				return nil, err
			}
		}
		if !ok {
			return alt, nil
		}
		if p.skip > 0 {
			return nil, nil
		}
		end := p.pos
		p.pos = start
		v, err = p.or()
		p.pos = end
		return v, err
	case p.isOp("?"):
		p.next()
		ok := truthy(v)
		a, err := p.lazy(ok, p.ternary)
		if err != nil {
			return nil, err
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		b, err := p.lazy(!ok, p.ternary)
		if err != nil {
			return nil, err
		}
		if ok {
			return a, nil
		}
		return b, nil
	}
	return v, nil
}

// lookaheadIf reports whether the or-expression starting here is followed
// by "if" at the same nesting level, so that it is the value of a
// Python-style conditional.
func (p *parser) lookaheadIf() bool {
	level := 0
	for i := p.pos; i < len(p.toks); i++ {
		t := p.toks[i]
		switch {
		case t.kind == tEOF:
			return false
		case t.kind == tOp && (t.text == "(" || t.text == "["):
			level++
		case t.kind == tOp && (t.text == ")" || t.text == "]"):
			if level == 0 {
				return false
			}
			level--
		case level == 0 && t.kind == tOp && (t.text == "," || t.text == "?" || t.text == ":"):
			return false
		case level == 0 && t.kind == tIdent && (t.text == "else"):
			return false
		case level == 0 && t.kind == tIdent && t.text == "if":
			return true
		}
	}
	return false
}

// lazy runs f, evaluating for real only when eval is true; otherwise f
// only parses (filters are checked by name but not run) and its value is
// meaningless.
func (p *parser) lazy(eval bool, f func() (any, error)) (any, error) {
	if !eval {
		p.skip++
		defer func() { p.skip-- }()
	}
	return f()
}

func (p *parser) or() (any, error) {
	v, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") || p.isOp("||") {
		p.next()
		taken := !truthy(v)
		w, err := p.lazy(taken, p.and)
		if err != nil {
			return nil, err
		}
		if taken {
			v = w
		}
	}
	return v, nil
}

func (p *parser) and() (any, error) {
	v, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") || p.isOp("&&") {
		p.next()
		taken := truthy(v)
		w, err := p.lazy(taken, p.not)
		if err != nil {
			return nil, err
		}
		if taken {
			v = w
		}
	}
	return v, nil
}

func (p *parser) not() (any, error) {
	if p.isWord("not") || p.isOp("!") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		v, err := p.not()
		return !truthy(v), err
	}
	return p.compare()
}

func (p *parser) compare() (any, error) {
	v, err := p.concat()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tOp {
		return v, nil
	}
	switch t.text {
	case "===", "==", "!==", "!=", "<", ">", "<=", ">=":
	default:
		return v, nil
	}
	p.next()
	w, err := p.concat()
	if err != nil {
		return nil, err
	}
	switch t.text {
	case "===", "==":
		return equal(v, w), nil
	case "!==", "!=":
		return !equal(v, w), nil
	}
	a, aok := toNumber(v)
	b, bok := toNumber(w)
	if !aok || !bok {
		as, bs := toString(v), toString(w)
		switch t.text {
		case "<":
			return as < bs, nil
		case ">":
			return as > bs, nil
		case "<=":
			return as <= bs, nil
		}
		return as >= bs, nil
	}
	switch t.text {
	case "<":
		return a < b, nil
	case ">":
		return a > b, nil
	case "<=":
		return a <= b, nil
	}
	return a >= b, nil
}

// concat := filtered (("~" | "+") filtered)*
func (p *parser) concat() (any, error) {
	v, err := p.filtered()
	if err != nil {
		return nil, err
	}
	for p.isOp("~") || p.isOp("+") {
		op := p.next().text
		w, err := p.filtered()
		if err != nil {
			return nil, err
		}
		a, aok := toNumber(v)
		b, bok := toNumber(w)
		_, vs := v.(string)
		_, ws := w.(string)
		if op == "+" && aok && bok && !vs && !ws {
			v = a + b
		} else {
			l, r := toString(v), toString(w)
			if len(l)+len(r) > maxRenderedBytes {
				return nil, fmt.Errorf("value larger than %d bytes", maxRenderedBytes)
			}
			v = l + r
		}
	}
	return v, nil
}

// filtered := postfix ("|" name ("(" args ")")?)*
func (p *parser) filtered() (any, error) {
	v, err := p.postfix()
	if err != nil {
		return nil, err
	}
	for p.isOp("|") {
		p.next()
		name := p.next()
		if name.kind != tIdent {
			return nil, fmt.Errorf("want a filter name after |")
		}
		var args []any
		if p.isOp("(") {
			p.next()
			for !p.isOp(")") {
				a, err := p.ternary()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				if p.isOp(",") {
					p.next()
				} else if !p.isOp(")") {
					return nil, fmt.Errorf("want , or ) in arguments of %s", name.text)
				}
			}
			p.next()
		}
		if p.skip > 0 {
			if !knownFilter(name.text) {
				return nil, fmt.Errorf("unknown filter %q", name.text)
			}
			v = nil
			continue
		}
		if v, err = applyFilter(name.text, v, args); err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok && len(s) > maxRenderedBytes {
			return nil, fmt.Errorf("%s: value larger than %d bytes", name.text, maxRenderedBytes)
		}
	}
	return v, nil
}

func (p *parser) postfix() (any, error) {
	v, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("."):
			p.next()
			t := p.next()
			if t.kind != tIdent && t.kind != tNum {
				return nil, fmt.Errorf("want a name after .")
			}
			v = member(v, t.text)
		case p.isOp("["):
			p.next()
			k, err := p.ternary()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			v = member(v, toString(k))
		default:
			return v, nil
		}
	}
}

func (p *parser) primary() (any, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return t.num, nil
	case tStr:
		return t.text, nil
	case tIdent:
		switch t.text {
		case "true", "True":
			return true, nil
		case "false", "False":
			return false, nil
		case "null", "none", "None", "undefined":
			return nil, nil
		}
		return p.scope[t.text], nil
	case tOp:
		switch t.text {
		case "(":
			v, err := p.ternary()
			if err != nil {
				return nil, err
			}
			return v, p.expect(")")
		case "[":
			var list []any
			for !p.isOp("]") {
				v, err := p.ternary()
				if err != nil {
					return nil, err
				}
				list = append(list, v)
				if p.isOp(",") {
					p.next()
				} else if !p.isOp("]") {
					return nil, fmt.Errorf("want , or ] in list")
				}
			}
			p.next()
			return list, nil
		}
	case tEOF:
		return nil, fmt.Errorf("unexpected end")
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}

// member reads key from a map or index from a list; anything else is nil,
// as in JavaScript's undefined, so templates can test optional values.
func member(v any, key string) any {
	switch m := v.(type) {
	case map[string]any:
		return m[key]
	case exprScope:
		return m[key]
	case []any:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(m) {
			return m[i]
		}
		if key == "length" {
			return float64(len(m))
		}
	case []string:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(m) {
			return m[i]
		}
	case string:
		if key == "length" {
			return float64(len(m))
		}
	}
	return nil
}

// truthy reports whether v counts as true in a condition, as in
// JavaScript: false, nil, 0, "" and NaN are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0 && !math.IsNaN(x)
	case int:
		return x != 0
	case int64:
		return x != 0
	}
	return true
}

func equal(a, b any) bool {
	if x, ok := toNumber(a); ok {
		if y, ok := toNumber(b); ok {
			_, as := a.(string)
			_, bs := b.(string)
			if as == bs {
				return x == y
			}
			return false
		}
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// toString renders v as Nunjucks would print it into text: nil is empty,
// numbers without trailing zeros, lists joined by commas, maps as JSON.
func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case json.Number:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = toString(e)
		}
		return strings.Join(parts, ",")
	case []string:
		return strings.Join(x, ",")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// applyFilter runs one of the filters Backstage templates use. Unknown
// filters are an error naming the filter.
func applyFilter(name string, v any, args []any) (any, error) {
	arg := func(i int) any {
		if i < len(args) {
			return args[i]
		}
		return nil
	}
	switch name {
	case "parseRepoUrl":
		r, err := parseRepoURL(toString(v))
		if err != nil {
			return nil, err
		}
		return r.Map(), nil
	case "projectSlug":
		r, err := parseRepoURL(toString(v))
		if err != nil {
			return nil, err
		}
		return r.Owner + "/" + r.Repo, nil
	case "pick":
		return member(v, toString(arg(0))), nil
	case "default", "d":
		if v == nil || (len(args) > 1 && truthy(args[1]) && !truthy(v)) {
			return arg(0), nil
		}
		return v, nil
	case "lower":
		return strings.ToLower(toString(v)), nil
	case "upper":
		return strings.ToUpper(toString(v)), nil
	case "capitalize":
		// Nunjucks upper-cases the first character and lower-cases the
		// rest; a character is a rune here, never a byte of one.
		s := toString(v)
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 {
			return s, nil
		}
		return string(unicode.ToUpper(r)) + strings.ToLower(s[size:]), nil
	case "trim":
		return strings.TrimSpace(toString(v)), nil
	case "replace":
		// Checked before building: "x | replace('', x)" would otherwise
		// allocate len(x) squared bytes before any size check ran.
		s, old, new := toString(v), toString(arg(0)), toString(arg(1))
		if n := strings.Count(s, old); len(new) > len(old) && n > 0 && (len(new)-len(old)) > (maxRenderedBytes-len(s))/n {
			return nil, fmt.Errorf("replace: value larger than %d bytes", maxRenderedBytes)
		}
		return strings.ReplaceAll(s, old, new), nil
	case "join":
		sep := ","
		if len(args) > 0 {
			sep = toString(args[0])
		}
		switch l := v.(type) {
		case []any:
			parts := make([]string, len(l))
			for i, e := range l {
				parts[i] = toString(e)
			}
			return strings.Join(parts, sep), nil
		case []string:
			return strings.Join(l, sep), nil
		}
		return toString(v), nil
	case "length":
		switch l := v.(type) {
		case []any:
			return float64(len(l)), nil
		case []string:
			return float64(len(l)), nil
		case map[string]any:
			return float64(len(l)), nil
		}
		return float64(len(toString(v))), nil
	case "first", "last":
		l, ok := v.([]any)
		if !ok || len(l) == 0 {
			return nil, nil
		}
		if name == "first" {
			return l[0], nil
		}
		return l[len(l)-1], nil
	case "dump", "json":
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case "string":
		return toString(v), nil
	case "int":
		f, _ := toNumber(v)
		return math.Trunc(f), nil
	case "urlencode":
		return url.QueryEscape(toString(v)), nil
	case "sort":
		l, ok := v.([]any)
		if !ok {
			return v, nil
		}
		c := append([]any(nil), l...)
		sort.SliceStable(c, func(i, j int) bool { return toString(c[i]) < toString(c[j]) })
		return c, nil
	}
	return nil, fmt.Errorf("unknown filter %q", name)
}

// knownFilter reports whether applyFilter knows name; a branch not taken
// still refuses an unknown filter, as Nunjucks does when it compiles.
func knownFilter(name string) bool {
	switch name {
	case "parseRepoUrl", "projectSlug", "pick", "default", "d", "lower", "upper",
		"capitalize", "trim", "replace", "join", "length", "first", "last",
		"dump", "json", "string", "int", "urlencode", "sort":
		return true
	}
	return false
}
