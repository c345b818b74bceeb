package catalog

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultNamespace is the namespace of entities and references that name none.
const DefaultNamespace = "default"

// Ref is a reference to an entity, in Backstage's [<kind>:][<namespace>/]<name>
// form. Refs compare case-insensitively; use Equal or compare String values.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// ParseRef parses s as an entity reference. defaultKind is used when s names
// no kind (pass "" when a kind is required); defaultNamespace when it names
// no namespace ("" means "default"). Backstage takes the default namespace
// from the referring entity, not always "default". A built-in kind is
// returned in its canonical spelling (KindUser for "user"); namespace and
// name keep their case.
func ParseRef(s, defaultKind, defaultNamespace string) (Ref, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Ref{}, fmt.Errorf("entity ref: empty")
	}
	r := Ref{Kind: defaultKind, Namespace: defaultNamespace}
	rest := in
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		r.Kind, rest = rest[:i], rest[i+1:]
		if r.Kind == "" {
			return Ref{}, fmt.Errorf("entity ref %q: empty kind", s)
		}
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		r.Namespace, rest = rest[:i], rest[i+1:]
		if r.Namespace == "" {
			return Ref{}, fmt.Errorf("entity ref %q: empty namespace", s)
		}
	}
	if rest == "" {
		return Ref{}, fmt.Errorf("entity ref %q: empty name", s)
	}
	if strings.ContainsAny(rest, ":/") {
		return Ref{}, fmt.Errorf("entity ref %q: malformed", s)
	}
	if r.Kind == "" {
		return Ref{}, fmt.Errorf("entity ref %q: no kind given and none implied", s)
	}
	if r.Namespace == "" {
		r.Namespace = DefaultNamespace
	}
	if k, ok := KnownKind(r.Kind); ok {
		r.Kind = k // "user:ada" names a User; kinds compare case-insensitively
	}
	r.Name = rest
	return r, nil
}

// MustParseRef is ParseRef that panics on error, for tests and constants.
func MustParseRef(s string) Ref {
	r, err := ParseRef(s, "", "")
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the canonical form, lower case kind:namespace/name, used
// as the key everywhere (database, JSON output, comparisons).
//
// It is built in one allocation: every relation a sync stores and every
// answer looks refs up by it (issue 19 counted three per call before).
func (r Ref) String() string {
	var b strings.Builder
	b.Grow(len(r.Kind) + len(r.Namespace) + len(r.Name) + 2)
	writeLower(&b, r.Kind)
	b.WriteByte(':')
	writeLower(&b, r.Namespace)
	b.WriteByte('/')
	writeLower(&b, r.Name)
	return b.String()
}

// writeLower writes strings.ToLower(s) to b, without an intermediate
// string when s is ASCII.
func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			b.WriteString(strings.ToLower(s))
			return
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

// Display returns the reference as a person writes it: the name alone in the
// default namespace, namespace/name otherwise, keeping the original case.
func (r Ref) Display() string {
	if strings.EqualFold(r.Namespace, DefaultNamespace) || r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

// Equal reports whether r and o name the same entity, case-insensitively.
func (r Ref) Equal(o Ref) bool {
	return strings.EqualFold(r.Kind, o.Kind) && strings.EqualFold(r.Namespace, o.Namespace) && strings.EqualFold(r.Name, o.Name)
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r == Ref{} }
