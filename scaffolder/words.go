package scaffolder

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Form text is read by people who never saw the template's schema: a
// failed pattern is described in words where the pattern is simple enough
// (allowed characters and a length), and hints are whole sentences.

// describePattern describes a pattern made only of anchors and repeated
// ASCII character classes ("^[a-z0-9-]+$") as the characters it allows,
// or returns "" for anything else (fixed text, alternatives, a partial
// range), which words could only misstate.
func describePattern(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	var allowed [128]bool
	var walk func(r *syntax.Regexp) bool
	walk = func(r *syntax.Regexp) bool {
		switch r.Op {
		case syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpEmptyMatch:
			return true
		case syntax.OpConcat, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
			for _, s := range r.Sub {
				if !walk(s) {
					return false
				}
			}
			return true
		case syntax.OpCharClass:
			for i := 0; i+1 < len(r.Rune); i += 2 {
				lo, hi := r.Rune[i], r.Rune[i+1]
				if lo < ' ' || hi > '~' {
					return false
				}
				for c := lo; c <= hi; c++ {
					allowed[c] = true
				}
			}
			return true
		}
		return false
	}
	if !walk(re) {
		return ""
	}
	all := func(lo, hi byte) int { // 1 all, 0 none, -1 some
		n := 0
		for c := lo; c <= hi; c++ {
			if allowed[c] {
				n++
			}
		}
		switch n {
		case int(hi-lo) + 1:
			return 1
		case 0:
			return 0
		}
		return -1
	}
	lower, upper, digits := all('a', 'z'), all('A', 'Z'), all('0', '9')
	if lower < 0 || upper < 0 || digits < 0 {
		return ""
	}
	var parts []string
	switch {
	case lower == 1 && upper == 1:
		parts = append(parts, "letters")
	case lower == 1:
		parts = append(parts, "lowercase letters")
	case upper == 1:
		parts = append(parts, "uppercase letters")
	}
	if digits == 1 {
		parts = append(parts, "digits")
	}
	for c := ' '; c <= '~'; c++ {
		if allowed[c] && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			if c == ' ' {
				parts = append(parts, "spaces")
			} else {
				parts = append(parts, string(c))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := "Use only " + list(parts)
	if n := lengthWords(re); n != "" {
		s += ", " + n
	}
	return s + "."
}

// lengthWords states the length a pattern of one repeated class allows
// ("^[0-9]{4}$"), or "" when the pattern is not that simple.
func lengthWords(re *syntax.Regexp) string {
	r := re
	if r.Op == syntax.OpConcat {
		var core []*syntax.Regexp
		for _, s := range r.Sub {
			switch s.Op {
			case syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
			default:
				core = append(core, s)
			}
		}
		if len(core) != 1 {
			return ""
		}
		r = core[0]
	}
	if r.Op != syntax.OpRepeat {
		return ""
	}
	switch {
	case r.Min == r.Max:
		return fmt.Sprintf("exactly %d characters", r.Min)
	case r.Max < 0:
		return fmt.Sprintf("at least %d characters", r.Min)
	}
	return fmt.Sprintf("from %d to %d characters", r.Min, r.Max)
}

// list joins words as English does: "a, b and c".
func list(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// sentence makes s a sentence: a capital first letter and a final stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	r, size := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[size:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, ":") {
		s += "."
	}
	return s
}

// addHint appends the sentence more to hint, which is made a sentence.
func addHint(hint, more string) string {
	hint = sentence(hint)
	if hint == "" {
		return more
	}
	return hint + " " + more
}
