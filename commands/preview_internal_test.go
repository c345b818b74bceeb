package commands

import (
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

func TestParseEntityLink(t *testing.T) {
	tests := []struct {
		portal, link string
		want         catalog.Ref
		ok           bool
	}{
		{"https://portal.example.com", "https://portal.example.com/catalog/default/component/payments-api", catalog.Ref{Namespace: "default", Kind: "component", Name: "payments-api"}, true},
		{"https://portal.example.com", "https://Portal.Example.com/catalog/finance/Component/reporting/api?tab=x#top", catalog.Ref{Namespace: "finance", Kind: "Component", Name: "reporting"}, true},
		{"https://portal.example.com", "https://portal.example.com/catalog/default/component/a%20b", catalog.Ref{Namespace: "default", Kind: "component", Name: "a b"}, true},
		{"https://example.com/backstage", "https://example.com/backstage/catalog/default/group/payments", catalog.Ref{Namespace: "default", Kind: "group", Name: "payments"}, true},
		{"https://example.com/backstage", "https://example.com/catalog/default/group/payments", catalog.Ref{}, false},
		{"https://portal.example.com", "http://portal.example.com/catalog/default/component/payments-api", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com.evil.example/catalog/default/component/x", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com@evil.example/catalog/default/component/x", catalog.Ref{}, false},
		{"https://portal.example.com", "https://other.example.com/catalog/default/component/x", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com/catalog/default/component", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com/catalog/default/component/", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com/catalog/default/component/a%2Fb", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com/docs/default/component/x", catalog.Ref{}, false},
		{"https://portal.example.com", "https://portal.example.com/catalog/default/component/%zz", catalog.Ref{}, false},
	}
	for _, tt := range tests {
		got, ok := parseEntityLink(tt.portal, tt.link)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseEntityLink(%q, %q) = %v, %v, want %v, %v", tt.portal, tt.link, got, ok, tt.want, tt.ok)
		}
	}
}
