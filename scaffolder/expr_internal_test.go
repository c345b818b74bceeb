package scaffolder

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRenderString(t *testing.T) {
	scope := exprScope{
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
		got, err := renderString(tt.in, scope)
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
	scope := exprScope{"parameters": map[string]any{"x": "a"}}
	tests := []struct{ in, want string }{
		{"${{ parameters.x | exec('rm -rf /') }}", `unknown filter "exec"`},
		{"${{ 'a' if true else parameters.x | exec('rm -rf /') }}", `unknown filter "exec"`},
		{"${{ parameters.€ }}", "unexpected character"},
		{"${{ parameters.\xff }}", "unexpected character"},
		{"${{ parameters.x", "unterminated"},
		{"${{ parameters.x ) }}", "unexpected"},
		{"${{ 'abc }}", "unterminated string"},
		{"${{ " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + " }}", "nested too deeply"},
		{"${{ parameters.repoUrl | parseRepoUrl }}", "repo url"},
	}
	for _, tt := range tests {
		_, err := renderString(tt.in, scope)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("RenderString(%q) error = %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseRepoURL(t *testing.T) {
	tests := []struct {
		in      string
		want    repoURL
		wantErr bool
	}{
		{in: "github.com?owner=acme&repo=pay", want: repoURL{Host: "github.com", Owner: "acme", Repo: "pay"}},
		{in: "dev.azure.com?organization=o&project=p&repo=r", want: repoURL{Host: "dev.azure.com", Organization: "o", Project: "p", Repo: "r"}},
		{in: "github.com?owner=acme", wantErr: true},
		{in: "github.com?owner=..&repo=x", wantErr: true},
		{in: "github.com?owner=a/b&repo=x", wantErr: true},
		{in: "github.com?owner=a&repo=../../etc", wantErr: true},
		{in: "evil.com/x?owner=a&repo=b", wantErr: true},
		{in: "no-query", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseRepoURL(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRepoURL(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && got != tt.want {
			t.Errorf("ParseRepoURL(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestEvalNonASCIIIdentifierReturns pins the lexer on identifiers with
// letters outside ASCII: it used to loop forever on the first such byte,
// so one template file could hang the bot.
func TestEvalNonASCIIIdentifierReturns(t *testing.T) {
	scope := exprScope{"parameters": map[string]any{"café": "noir", "名前": "x"}}
	tests := []struct {
		in   string
		want any
	}{
		{"parameters.café", "noir"},
		{"parameters.名前", "x"},
		{"é", nil},
	}
	for _, tt := range tests {
		type result struct {
			v   any
			err error
		}
		done := make(chan result, 1)
		go func() {
			v, err := eval(tt.in, scope)
			done <- result{v, err}
		}()
		select {
		case r := <-done:
			if r.err != nil {
				t.Errorf("Eval(%q) error: %v", tt.in, r.err)
			} else if !reflect.DeepEqual(r.v, tt.want) {
				t.Errorf("Eval(%q) = %#v, want %#v", tt.in, r.v, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Eval(%q) did not return within 5s", tt.in)
		}
	}
}

func TestCapitalizeUTF8(t *testing.T) {
	scope := exprScope{}
	tests := []struct{ in, want string }{
		{"${{ 'élan VITAL' | capitalize }}", "Élan vital"},
		{"${{ 'ωMEGA' | capitalize }}", "Ωmega"},
		{"${{ 'x' | capitalize }}", "X"},
		{"${{ '' | capitalize }}", ""},
	}
	for _, tt := range tests {
		got, err := renderText(tt.in, scope)
		if err != nil || got != tt.want {
			t.Errorf("RenderText(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestEvalShortCircuit checks that the branch not taken is not evaluated:
// Backstage's Nunjucks does not run it, and templates rely on that to guard
// a filter that fails on a missing value.
func TestEvalShortCircuit(t *testing.T) {
	scope := exprScope{"parameters": map[string]any{"repoUrl": "github.com?owner=acme&repo=pay", "flag": true}}
	tests := []struct {
		in   string
		want any
	}{
		{"parameters.missing | parseRepoUrl if parameters.missing else 'none'", "none"},
		{"'none' if not parameters.missing else parameters.missing | parseRepoUrl", "none"},
		{"parameters.missing ? parameters.missing | parseRepoUrl : 'none'", "none"},
		{"parameters.flag ? 'yes' : parameters.missing | parseRepoUrl", "yes"},
		{"parameters.flag or parameters.missing | parseRepoUrl", true},
		{"parameters.flag || parameters.missing | parseRepoUrl", true},
		{"parameters.missing and parameters.missing | parseRepoUrl", nil},
		{"parameters.missing && parameters.missing | parseRepoUrl", nil},
		{"(parameters.repoUrl | parseRepoUrl).owner if parameters.repoUrl else 'none'", "acme"},
	}
	for _, tt := range tests {
		got, err := eval(tt.in, scope)
		if err != nil {
			t.Errorf("Eval(%q) error: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Eval(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// TestEvalBoundsValueSize checks that no expression builds a value past
// the render limit, whatever the size of the values it starts from.
func TestEvalBoundsValueSize(t *testing.T) {
	big := strings.Repeat("a", 600<<10)
	scope := exprScope{"parameters": map[string]any{"big": big, "k": strings.Repeat("a", 2000)}}
	for _, in := range []string{
		"parameters.big ~ parameters.big",
		"parameters.big + parameters.big",
		"parameters.k | replace('a', parameters.k)",
		"parameters.k | replace('', parameters.k)",
		"[parameters.big, parameters.big] | join('')",
	} {
		v, err := eval(in, scope)
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("Eval(%q) = %d bytes, %v, want a size error", in, len(fmt.Sprint(v)), err)
		}
	}
}
