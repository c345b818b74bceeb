package scaffolder_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/scaffolder"
)

func TestRenderString(t *testing.T) {
	scope := scaffolder.Scope{
		"parameters": map[string]any{
			"name":     "payments-api",
			"repoUrl":  "github.com?owner=acme&repo=pay",
			"topics":   []any{"a", "b"},
			"provider": "AWS",
			"dryRun":   false,
			"count":    int64(3),
		},
		"steps": map[string]any{"publish": map[string]any{"output": map[string]any{"remoteUrl": "https://x/y"}}},
	}
	tests := []struct {
		in   string
		want any
	}{
		{"${{ parameters.name }}", "payments-api"},
		{"svc-${{ parameters.name | upper }}!", "svc-PAYMENTS-API!"},
		{"${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}", "acme"},
		{"${{ (parameters.repoUrl | parseRepoUrl).repo }}", "pay"},
		{"${{ parameters.repoUrl | projectSlug }}", "acme/pay"},
		{"${{ parameters.provider === 'AWS' }}", true},
		{"${{ parameters.provider !== \"AWS\" }}", false},
		{"${{ parameters.dryRun !== true }}", true},
		{"${{ parameters.missing | default('x') }}", "x"},
		{"${{ parameters.missing if parameters.missing else '.' }}", "."},
		{"${{ parameters.name if parameters.name }}", "payments-api"},
		{"${{ parameters.topics }}", []any{"a", "b"}},
		{"t=${{ parameters.topics | join(', ') }}", "t=a, b"},
		{"${{ parameters.count > 2 and not parameters.dryRun }}", true},
		{"${{ steps.publish.output.remoteUrl }}", "https://x/y"},
		{"${{ steps['publish'].output.remoteUrl }}", "https://x/y"},
		{"${{ parameters.dryRun ? 'dry' : 'wet' }}", "wet"},
		{"plain text", "plain text"},
		{"${{ secrets.token or false }}", false},
	}
	for _, tt := range tests {
		got, err := scaffolder.RenderString(tt.in, scope)
		if err != nil {
			t.Errorf("RenderString(%q) error: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RenderString(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestRenderStringErrors(t *testing.T) {
	scope := scaffolder.Scope{"parameters": map[string]any{"x": "a"}}
	tests := []struct{ in, want string }{
		{"${{ parameters.x | exec('rm -rf /') }}", `unknown filter "exec"`},
		{"${{ parameters.x", "unterminated"},
		{"${{ parameters.x ) }}", "unexpected"},
		{"${{ 'abc }}", "unterminated string"},
		{"${{ " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + " }}", "nested too deeply"},
		{"${{ parameters.repoUrl | parseRepoUrl }}", "repo url"},
	}
	for _, tt := range tests {
		_, err := scaffolder.RenderString(tt.in, scope)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("RenderString(%q) error = %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseRepoURL(t *testing.T) {
	tests := []struct {
		in      string
		want    scaffolder.RepoURL
		wantErr bool
	}{
		{in: "github.com?owner=acme&repo=pay", want: scaffolder.RepoURL{Host: "github.com", Owner: "acme", Repo: "pay"}},
		{in: "dev.azure.com?organization=o&project=p&repo=r", want: scaffolder.RepoURL{Host: "dev.azure.com", Organization: "o", Project: "p", Repo: "r"}},
		{in: "github.com?owner=acme", wantErr: true},
		{in: "github.com?owner=..&repo=x", wantErr: true},
		{in: "github.com?owner=a/b&repo=x", wantErr: true},
		{in: "github.com?owner=a&repo=../../etc", wantErr: true},
		{in: "evil.com/x?owner=a&repo=b", wantErr: true},
		{in: "no-query", wantErr: true},
	}
	for _, tt := range tests {
		got, err := scaffolder.ParseRepoURL(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRepoURL(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("ParseRepoURL(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
