package catalog_test

import (
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, kind, ns string
		want         string // canonical; "" means an error
		display      string
	}{
		{"payments", catalog.KindGroup, "", "group:default/payments", "payments"},
		{"payments", catalog.KindGroup, "shop", "group:shop/payments", "shop/payments"},
		{"other/payments", catalog.KindGroup, "shop", "group:other/payments", "other/payments"},
		{"user:ada", catalog.KindGroup, "shop", "user:shop/ada", "shop/ada"},
		{"Component:Default/Payments-API", "", "", "component:default/payments-api", "Payments-API"},
		{"  api:x/y  ", "", "", "api:x/y", "x/y"},
		{"web@example.com", catalog.KindGroup, "", "group:default/web@example.com", "web@example.com"},
		{"backstage/techdocs-core", catalog.KindGroup, "", "group:backstage/techdocs-core", "backstage/techdocs-core"},
		{"ledger", "", "", "", ""},            // no kind and none implied
		{"", catalog.KindGroup, "", "", ""},   // empty
		{":x", catalog.KindGroup, "", "", ""}, // empty kind
		{"a:/x", catalog.KindGroup, "", "", ""},
		{"a:b/", catalog.KindGroup, "", "", ""},
		{"a:b/c/d", catalog.KindGroup, "", "", ""},
		{"a:b:c", catalog.KindGroup, "", "", ""},
	}
	for _, tt := range tests {
		got, err := catalog.ParseRef(tt.in, tt.kind, tt.ns)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseRef(%q, %q, %q) = %v, want an error", tt.in, tt.kind, tt.ns, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRef(%q, %q, %q) error: %v", tt.in, tt.kind, tt.ns, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("ParseRef(%q, %q, %q) = %v, want %v", tt.in, tt.kind, tt.ns, got, tt.want)
		}
		if got.Display() != tt.display {
			t.Errorf("ParseRef(%q).Display() = %q, want %q", tt.in, got.Display(), tt.display)
		}
	}
}

func TestRefEqualIgnoresCase(t *testing.T) {
	a := catalog.MustParseRef("Component:Default/Payments")
	b := catalog.MustParseRef("component:default/payments")
	if !a.Equal(b) || a.String() != b.String() {
		t.Errorf("%#v and %#v differ", a, b)
	}
	if c := catalog.MustParseRef("component:default/payment"); a.Equal(c) {
		t.Errorf("%v.Equal(%v) = true", a, c)
	}
	if u := catalog.MustParseRef("user:ada"); u.Kind != catalog.KindUser {
		t.Errorf("ParseRef(user:ada).Kind = %q, want %q", u.Kind, catalog.KindUser)
	}
	if a.Name != "Payments" {
		t.Errorf("ParseRef lost the case of the name: %q", a.Name)
	}
}

func TestEntityOwner(t *testing.T) {
	e := &catalog.Entity{Kind: catalog.KindComponent, Metadata: catalog.Metadata{Name: "c", Namespace: "shop"}, Spec: map[string]any{"owner": "payments"}}
	got, ok := e.Owner()
	if !ok || got.String() != "group:shop/payments" {
		t.Errorf("Owner() = %v, %v, want group:shop/payments", got, ok)
	}
}

// TestRefStringLowersLikeStringsToLower: the one-allocation String is the
// canonical form it always was, for ASCII and for any other text a
// catalog file may hold.
func TestRefStringLowersLikeStringsToLower(t *testing.T) {
	type Ref = catalog.Ref
	for _, r := range []Ref{
		{}, {Kind: "Component", Namespace: "default", Name: "Payments-API"},
		{Kind: "GROUP", Namespace: "Team-A", Name: "x"},
		{Kind: "Component", Namespace: "ÉQUIPE", Name: "Straße-İ"},
		{Kind: "k", Namespace: "n", Name: "\xff\xfeA"},
	} {
		want := strings.ToLower(r.Kind) + ":" + strings.ToLower(r.Namespace) + "/" + strings.ToLower(r.Name)
		if got := r.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", r, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Ref{Kind: "Component", Namespace: "default", Name: "Payments"}.String() }); n > 1 {
		t.Errorf("String allocates %v times, want 1", n)
	}
}
