package commands

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

func TestOSADistance(t *testing.T) {
	for _, tt := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"payments-api", "payments-api", 3, 0},
		{"paymnts-api", "payments-api", 3, 1},  // deletion
		{"pyaments-api", "payments-api", 3, 1}, // transposition
		{"payments-apl", "payments-api", 3, 1}, // substitution
		{"worker-4", "worker-42", 3, 1},        // missing digit
		{"ca", "abc", 3, 3},                    // OSA, not full Damerau–Levenshtein
		{"kitten", "sitting", 3, 3},
		{"kitten", "sitting", 2, 3},         // over the limit: limit+1
		{"a", "completely-different", 2, 3}, // rejected by length alone
		{"", "abc", 5, 3},
		{"ünïcode", "unicode", 3, 2},
	} {
		if got := osaDistance(tt.a, tt.b, tt.limit); got != tt.want {
			t.Errorf("osaDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"checkout", "ledger", "payments", "payments-api", "payments-db", "payments-rest", "worker-42", "worker-7"}
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"paymnts-api", []string{"payments-api"}},
		{"payments-ap", []string{"payments-api", "payments-db", "payments"}},
		{"worker-4", []string{"worker-42", "worker-7"}},
		{"ledgr", []string{"ledger"}},
		{"paym", []string{"payments", "payments-db", "payments-api", "payments-rest"}},
		{"the-payments-service", nil},
		{"zz", nil},
	} {
		got := nearest(tt.q, names, 5)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("nearest(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"who owns payments-api?", "owner payments-api"},
		{"Who is the owner of payments-api", "owner payments-api"},
		{"please, who owns the payments-api?", "please, who owns the payments-api"},
		{"please who owns the payments-api?", "owner payments-api"},
		{"where are the docs for payments-api?", "docs payments-api"},
		{"who's on call for checkout", "oncall checkout"},
		{"what does checkout depend on?", "deps checkout"},
		{"what does checkout mean?", "what does checkout mean"},
		{"members of the payments team", "team payments"},
		{"find payments", "search payments"},
		{"owner payments-api", "owner payments-api"},
		{"/owner x", "owner x"},
		{"  ", ""},
		{"who owns", "who owns"},
	} {
		if got := normalize(tt.in); got != tt.want {
			t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// countingStore is a catalog.Store whose Generation and Summaries are
// counted and scripted; the rest is unused by the index.
type countingStore struct {
	catalog.Store
	gen              int64
	sums             []catalog.Summary
	genCalls, sCalls int
}

func (s *countingStore) Generation(context.Context) (int64, error) { s.genCalls++; return s.gen, nil }
func (s *countingStore) Summaries(context.Context) ([]catalog.Summary, error) {
	s.sCalls++
	return s.sums, nil
}

func TestIndexRefresh(t *testing.T) {
	st := &countingStore{gen: 1, sums: []catalog.Summary{{Ref: catalog.MustParseRef("component:default/a")}}}
	x := newIndex(st)
	now := time.Unix(1000, 0)
	x.now = func() time.Time { return now }
	ctx := context.Background()

	s, err := x.get(ctx)
	if err != nil || len(s.entries) != 1 {
		t.Fatalf("get() = %v, %v; want one entry", s, err)
	}
	// Within refreshEvery: no store call at all.
	x.get(ctx)
	if st.genCalls != 1 || st.sCalls != 1 {
		t.Errorf("after two gets within a second: Generation calls %d, Summaries calls %d; want 1, 1", st.genCalls, st.sCalls)
	}
	// Later, same generation: one cheap check, no reload.
	now = now.Add(2 * refreshEvery)
	x.get(ctx)
	if st.genCalls != 2 || st.sCalls != 1 {
		t.Errorf("after an unchanged check: Generation calls %d, Summaries calls %d; want 2, 1", st.genCalls, st.sCalls)
	}
	// A sync changed the catalog: reloaded.
	st.gen = 2
	st.sums = append(st.sums, catalog.Summary{Ref: catalog.MustParseRef("component:default/b"), Owner: "team-b"})
	now = now.Add(2 * refreshEvery)
	s, _ = x.get(ctx)
	if st.sCalls != 2 || len(s.entries) != 2 {
		t.Errorf("after a generation change: Summaries calls %d, entries %d; want 2, 2", st.sCalls, len(s.entries))
	}
	if got := s.owned["group:default/team-b"]; len(got) != 1 {
		t.Errorf("owned[group:default/team-b] = %v, want the one entity (owner refs are canonicalised)", got)
	}
}

func TestSummarizeDefinition(t *testing.T) {
	for _, tt := range []struct {
		typ, def string
		want     string
		servers  int
	}{
		{"openapi", "swagger: '2.0'\ninfo: {title: Pets, version: '1'}\nhost: pets.example.com\nbasePath: /v1\npaths:\n  /pets: {get: {}, post: {}}\n", "Swagger 2.0 “Pets” version 1, 2 operations", 1},
		{"openapi", `{"openapi":"3.1.0","info":{"title":"J","version":"0"},"paths":{"/a":{"get":{},"summary":"x"}}}`, "OpenAPI 3.1.0 “J” version 0, 1 operation", 0},
		{"openapi", "{not yaml: [", "OpenAPI, definition is not valid YAML or JSON", 0},
		{"asyncapi", "asyncapi: 2.6.0\ninfo: {title: E, version: '2'}\nchannels: {a: {}, b: {}, c: {}}\nservers: {p: {url: 'amqp://mq:5672', protocol: amqp}}\n", "AsyncAPI 2.6.0 “E” version 2, 3 channels", 1},
		{"graphql", "# comment with type Query {\n\"\"\"doc { }\"\"\"\ntype Query {\n  a: Int\n  b(x: Int,\n    y: Int): Int\n}\nextend type Query { c: Int }\ntype Mutation {\n  d(\n    e: Int\n  ): Int\n}\ntype Other { z: Int }\n", "GraphQL, 4 operations", 0},
		{"grpc", "syntax = \"proto3\";\npackage a.b;\n// rpc Fake(X) returns (Y);\nservice S { rpc A(X) returns (Y); rpc B(X) returns (Y); }\nservice T { rpc C(X) returns (Y); }\n", "gRPC “a.b”, 3 RPCs, 2 services: S, T", 0},
		{"trpc", "whatever", "tRPC", 0},
	} {
		got := summarizeDefinition(tt.typ, tt.def)
		if got.String() != tt.want || len(got.Servers) != tt.servers {
			t.Errorf("summarizeDefinition(%s) = %q with servers %q, want %q with %d", tt.typ, got.String(), got.Servers, tt.want, tt.servers)
		}
	}
}

// TestFirstTargets checks firstTargets against relTargets, which it
// replaces on the owner answer's path: the same first targets and count.
func TestFirstTargets(t *testing.T) {
	var rels []catalog.Relation
	for i := range 9 {
		u := catalog.Ref{Kind: "user", Namespace: "default", Name: "u" + strings.Repeat("x", i)}
		r := catalog.Relation{Type: catalog.RelHasMember, Target: u, TargetRef: u.String()}
		switch i {
		case 2:
			r.Target = catalog.Ref{} // parsed from TargetRef
		case 4:
			r.Target, r.TargetRef = catalog.Ref{}, "::" // unparseable: skipped
		}
		rels = append(rels, r, catalog.Relation{Type: catalog.RelOwnerOf, TargetRef: "component:default/c"})
	}
	for _, n := range []int{0, 1, 5, 20} {
		all := relTargets(rels, catalog.RelHasMember)
		got, total := firstTargets(rels, catalog.RelHasMember, n)
		if want := all[:min(n, len(all))]; !slices.Equal(got, want) || total != len(all) {
			t.Errorf("firstTargets(%d) = %v, %d; want %v, %d", n, got, total, want, len(all))
		}
	}
}
