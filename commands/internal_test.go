package commands

import (
	"slices"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

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
