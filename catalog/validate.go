package catalog

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// FieldError is one problem with one field of an entity.
type FieldError struct {
	// Field is the dotted path of the offending field, such as
	// "spec.owner" or "metadata.tags.2"; "" means the entity as a whole.
	Field string
	// Message says what is wrong, without the field name.
	Message string

	// path is Field split into its segments; label and annotation keys
	// contain dots, so the split cannot be recovered from Field.
	path []string
}

func fieldError(msg string, path ...string) FieldError {
	return FieldError{Field: strings.Join(path, "."), Message: msg, path: path}
}

// Error returns "field: message", or the message alone for the entity.
func (f FieldError) Error() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

// ValidationError is the error Validate returns: every problem it found,
// in the order of the fields. Find it with errors.As.
type ValidationError struct {
	Problems []FieldError // never empty
}

// Error joins the problems with "; ".
func (v *ValidationError) Error() string {
	parts := make([]string, len(v.Problems))
	for i, p := range v.Problems {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// Validate checks the entity against Backstage's rules: the envelope's field
// formats (FieldFormatEntityPolicy in @backstage/catalog-model), the
// apiVersion and kind pair, and the required spec fields and their types as
// each kind's JSON schema states them. The error is a *ValidationError
// listing every problem.
func (e *Entity) Validate() error {
	var v validator
	v.envelope(e)
	v.kind(e)
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

type validator struct {
	problems []FieldError
}

func (v *validator) add(msg string, path ...string) {
	v.problems = append(v.problems, fieldError(msg, path...))
}

// Formats from @backstage/catalog-model's KubernetesValidatorFunctions and
// CommonValidatorFunctions; tags follow makeValidator's isValidTag. Each is
// a loop over bytes rather than a regexp: they run on every name, namespace,
// kind, key and tag of a sync, and with regexps Validate cost 0.46 s of a
// 100,000-entity sync's 10 s of client CPU.
// TestFormatsMatchRegexps holds each to the pattern it replaces, written
// beside it; any byte outside ASCII fails every class, as a non-ASCII rune
// failed the patterns' classes.

// isObjectName matches ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$.
func isObjectName(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// isDNSLabelText matches ^[a-z0-9]+(-[a-z0-9]+)*$.
func isDNSLabelText(s string) bool { return dashSeparated(s, isLowerAlnum) }

// isTagText matches ^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$.
func isTagText(s string) bool { return dashSeparated(s, isTagByte) }

// isKindText matches ^[a-zA-Z][a-z0-9A-Z]*$.
func isKindText(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	return isAlnumText(s)
}

// isAlnumText matches ^[a-z0-9A-Z]+$.
func isAlnumText(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// dashSeparated reports whether s is one or more runs of bytes that ok
// accepts, joined by single dashes: ^[ok]+(-[ok]+)*$.
func dashSeparated(s string, ok func(byte) bool) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '-':
			if s[i+1] == '-' { // s does not end with '-', so i+1 < len(s)
				return false
			}
		case !ok(c):
			return false
		}
	}
	return true
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) }
func isAlnum(c byte) bool      { return isLowerAlnum(c) || 'A' <= c && c <= 'Z' }
func isTagByte(c byte) bool    { return isLowerAlnum(c) || c == ':' || c == '+' || c == '#' }

// Messages naming the expected formats, as Backstage words them.
const (
	expectName      = "expected 1-63 characters of [A-Za-z0-9] separated by any of [-_.]"
	expectDNSLabel  = "expected 1-63 characters of [a-z0-9] separated by [-]"
	expectTag       = "expected 1-63 characters of [a-z0-9:+#] separated by [-]"
	expectPrefixed  = "expected an optional DNS subdomain prefix and a slash, then " + expectNameShort
	expectNameShort = "1-63 characters of [A-Za-z0-9] separated by any of [-_.]"
)

// IsValidName reports whether s is a valid entity name: 1-63 characters of
// [A-Za-z0-9-_.], starting and ending with a letter or digit
// (KubernetesValidatorFunctions.isValidObjectName).
func IsValidName(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && isObjectName(s)
}

// IsValidNamespace reports whether s is a valid namespace: a lower-case DNS
// label of at most 63 characters.
func IsValidNamespace(s string) bool { return isDNSLabel(s) }

func isDNSLabel(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && isDNSLabelText(s)
}

func isDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for {
		label, rest, more := strings.Cut(s, ".")
		if !isDNSLabel(label) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// prefixedOK applies Backstage's isValidPrefixAndOrSuffix with '/' as the
// separator: "suffix" or "prefix/suffix", never more than one slash.
func prefixedOK(s string, prefix, suffix func(string) bool) bool {
	pre, suf, ok := strings.Cut(s, "/")
	switch {
	case !ok:
		return suffix(s)
	case strings.IndexByte(suf, '/') >= 0:
		return false
	}
	return prefix(pre) && suffix(suf)
}

func isValidAPIVersion(s string) bool {
	return prefixedOK(s, isDNSSubdomain, func(n string) bool {
		return len(n) >= 1 && len(n) <= 63 && isAlnumText(n)
	})
}

func isValidKind(s string) bool {
	return len(s) >= 1 && len(s) <= 63 && isKindText(s)
}

// IsValidLabelKey reports whether s is a valid label or annotation key: an
// optional DNS-subdomain prefix and a slash, then a valid name.
func IsValidLabelKey(s string) bool { return prefixedOK(s, isDNSSubdomain, IsValidName) }

// IsValidTag reports whether s is a valid tag: 1-63 characters of lower
// case letters, digits, ':', '+' and '#' separated by single dashes
// (catalog-model makeValidator's isValidTag, which the catalog uses; the
// oracle test showed "c++" and "web:frontend" accepted).
func IsValidTag(s string) bool { return len(s) >= 1 && len(s) <= 63 && isTagText(s) }

// isValidURL approximates the WHATWG URL parser that Backstage's isValidUrl
// calls (new URL(value)): an absolute URL with a scheme.
func isValidURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return false
	}
	if u.Opaque == "" && u.Host == "" && (u.Scheme == "http" || u.Scheme == "https") {
		return false
	}
	return true
}

// quote shows hostile input safely in a message: quoted, escaped and
// truncated.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func (v *validator) envelope(e *Entity) {
	switch {
	case e.APIVersion == "":
		v.add("required", "apiVersion")
	case !isValidAPIVersion(e.APIVersion):
		v.add(fmt.Sprintf("%s is not a valid apiVersion; expected group/version such as backstage.io/v1alpha1", quote(e.APIVersion)), "apiVersion")
	}
	switch {
	case e.Kind == "":
		v.add("required", "kind")
	case !isValidKind(e.Kind):
		v.add(fmt.Sprintf("%s is not a valid kind; expected a letter then letters and digits, at most 63", quote(e.Kind)), "kind")
	}
	m := &e.Metadata
	switch {
	case m.Name == "":
		v.add("required", "metadata", "name")
	case !IsValidName(m.Name):
		v.add(fmt.Sprintf("%s is not a valid name; %s", quote(m.Name), expectName), "metadata", "name")
	}
	if m.Namespace != "" && !IsValidNamespace(m.Namespace) {
		v.add(fmt.Sprintf("%s is not a valid namespace; %s", quote(m.Namespace), expectDNSLabel), "metadata", "namespace")
	}
	for _, k := range sortedKeys(m.Labels) {
		if !IsValidLabelKey(k) {
			v.add(fmt.Sprintf("%s is not a valid label key; %s", quote(k), expectPrefixed), "metadata", "labels", k)
		}
		if val := m.Labels[k]; val != "" && !IsValidName(val) {
			v.add(fmt.Sprintf("%s is not a valid label value; expected \"\" or %s", quote(val), expectNameShort), "metadata", "labels", k)
		}
	}
	for _, k := range sortedKeys(m.Annotations) {
		if !IsValidLabelKey(k) {
			v.add(fmt.Sprintf("%s is not a valid annotation key; %s", quote(k), expectPrefixed), "metadata", "annotations", k)
		}
	}
	for i, t := range m.Tags {
		if !IsValidTag(t) {
			v.add(fmt.Sprintf("%s is not a valid tag; %s", quote(t), expectTag), "metadata", "tags", strconv.Itoa(i))
		}
	}
	for i, l := range m.Links {
		idx := strconv.Itoa(i)
		switch {
		case l.URL == "":
			v.add("required", "metadata", "links", idx, "url")
		case !isValidURL(l.URL):
			v.add(fmt.Sprintf("%s is not a valid absolute URL", quote(l.URL)), "metadata", "links", idx, "url")
		}
		// Title and icon are optional, but when present must be a
		// non-blank string and a valid name (isValidString, isValidObjectName).
		if l.Title != "" && strings.TrimSpace(l.Title) == "" {
			v.add("must not be blank", "metadata", "links", idx, "title")
		}
		if l.Icon != "" && !IsValidName(l.Icon) {
			v.add(fmt.Sprintf("%s is not a valid icon key; %s", quote(l.Icon), expectName), "metadata", "links", idx, "icon")
		}
	}
}
