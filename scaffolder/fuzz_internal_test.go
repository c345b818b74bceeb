package scaffolder

import (
	"context"
	"testing"
	"time"
)

// fuzzScope is a scope shaped like a real run's: parameters, values with a
// list and a map, step outputs.
func fuzzScope() exprScope {
	return exprScope{
		"parameters": map[string]any{"name": "pay", "repoUrl": "github.com?owner=acme&repo=pay", "n": 3.0, "list": []any{"a", "b"}},
		"values":     map[string]any{"name": "pay", "list": []any{"a", "b", "c"}, "env": map[string]any{"A": "1"}},
		"steps":      map[string]any{"publish": map[string]any{"output": map[string]any{"remoteUrl": "https://x/y"}}},
	}
}

// slowRender is far above what any input of the fuzzer's sizes needs; an
// input that takes longer is a hang in the making.
const slowRender = 2 * time.Second

// FuzzEval checks that an expression always returns, quickly, without
// panicking, and never builds a string past the render limit.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"parameters.name", "parameters.café", "é", "parameters.name | upper | capitalize",
		"parameters.repoUrl | parseRepoUrl | pick('owner')", "(parameters.repoUrl | parseRepoUrl).repo",
		"parameters.x | parseRepoUrl if parameters.x else 'none'", "parameters.n > 2 and not parameters.x",
		"parameters.n ? 'a' : 'b'", "parameters.list | join(', ')", "[1, 2, 'x'] | sort | dump",
		"parameters.name ~ parameters.name | replace('a', parameters.name)", "steps['publish'].output.remoteUrl",
		"'a' if parameters.n == 3 else 'b' if parameters.n else 'c'", "'\\xff'", "\"a\\\"b\"",
	} {
		f.Add(s)
	}
	scope := fuzzScope()
	f.Fuzz(func(t *testing.T, expr string) {
		start := time.Now()
		v, _ := eval(expr, scope)
		if d := time.Since(start); d > slowRender {
			t.Fatalf("Eval(%q) took %v", expr, d)
		}
		if s, ok := v.(string); ok && len(s) > maxRenderedBytes {
			t.Fatalf("Eval(%q) = %d bytes, over the %d limit", expr, len(s), maxRenderedBytes)
		}
	})
}

// FuzzRenderTemplate does the same for whole skeleton files.
func FuzzRenderTemplate(f *testing.F) {
	for _, s := range []string{
		"name: ${{ values.name }}\n{%- if values.name %}\nx: 1\n{%- endif %}\n",
		"{% for t in values.list %}${{ loop.index }}${{ t }}{% else %}none{% endfor %}",
		"{% for k, v in values.env %}${{ k }}=${{ v }}{% endfor %}",
		"{% set a = values.name ~ '!' %}${{ a }}{# c #}{% raw %}${{ x }}{% endraw %}",
		"{% if values.x %}a{% elif values.name %}b{% else %}c{% endif %}",
		"{% for a in values.list %}{% for b in values.list %}${{ a ~ b }}{% endfor %}{% endfor %}",
	} {
		f.Add(s)
	}
	scope := fuzzScope()
	f.Fuzz(func(t *testing.T, tmpl string) {
		start := time.Now()
		out, _ := renderTemplate(context.Background(), tmpl, scope)
		if d := time.Since(start); d > slowRender {
			t.Fatalf("renderTemplate(%q) took %v", tmpl, d)
		}
		if len(out) > maxRenderedBytes {
			t.Fatalf("renderTemplate(%q) = %d bytes, over the %d limit", tmpl, len(out), maxRenderedBytes)
		}
	})
}
