package main

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// importRule says that no production package matching from may depend,
// directly or through other packages of the module, on a package matching
// one of never. A pattern is a package path relative to the module root
// ("" is the root package); "x/..." matches x and every package under it,
// "..." every package.
type importRule struct {
	from   string
	except []string // packages matching from that the rule leaves out
	never  []string
	why    string
}

// importRules are the layering of STYLE.md §1 and issue 16's "Done when".
var importRules = []importRule{
	{from: "catalog/...", except: []string{"catalog/sqlstore/..."}, never: []string{"catalog/sqlstore/..."},
		why: "the domain and its helpers (ingest, drift, view, catalogtest) know the Store interface, never its implementation"},
	{from: "catalog/...", never: []string{"commands/...", "scaffolder/...", "adapters/...", "bot/...", "oncall/..."},
		why: "the catalog is the lowest layer: it knows no reader of it"},
	{from: "commands/...", never: []string{"adapters/...", "catalog/sqlstore/...", "bot/..."},
		why: "commands is transport-neutral and reads the catalog through catalog.Store and catalog/view"},
	{from: "scaffolder/...", never: []string{"adapters/...", "catalog/sqlstore/...", "bot/..."},
		why: "the template service answers through commands' neutral Reply"},
	{from: "catalog/ingest/...", never: []string{"catalog/sqlstore/..."},
		why: "ingest writes through catalog.Store"},
	{from: "catalog/drift/...", never: []string{"catalog/sqlstore/..."},
		why: "drift reads through its Reader interface"},
	{from: "adapters/slack/...", never: []string{"adapters/discord/...", "adapters/console/...", "catalog/sqlstore/...", "bot/..."},
		why: "adapters never know one another or the store"},
	{from: "adapters/discord/...", never: []string{"adapters/slack/...", "adapters/console/...", "catalog/sqlstore/...", "bot/..."},
		why: "adapters never know one another or the store"},
	{from: "adapters/console/...", never: []string{"adapters/slack/...", "adapters/discord/...", "catalog/sqlstore/...", "bot/..."},
		why: "adapters never know one another or the store"},
	{from: "oncall/...", never: []string{"adapters/...", "catalog/sqlstore/...", "bot/..."},
		why: "oncall knows the vendors' APIs and commands' OnCallSource only"},
	{from: "migrations/...", never: []string{"catalog/...", "commands/...", "bot/..."},
		why: "migrations holds SQL and its runner only"},
	{from: "...", except: []string{"", "bot/..."}, never: []string{"bot/..."},
		why: "bot wires everything together, so only main imports it"},
}

// TestImportRules parses the import clauses of every non-test Go file of
// the module (whatever its build constraints) and checks importRules on
// the packages' transitive imports within the module, and that no
// production package (one whose name does not end in "test", as
// sqlstoretest's) imports testing or a test-helper package.
func TestImportRules(t *testing.T) {
	module := modulePath(t)
	pkgs := parseImports(t, ".", module)
	for _, want := range []string{"", "catalog", "catalog/sqlstore", "catalog/view", "commands", "scaffolder", "catalog/ingest", "catalog/drift", "adapters/slack", "bot"} {
		if _, ok := pkgs[want]; !ok {
			t.Fatalf("the walk of the module found no package %q; the rules would pass without checking it", want)
		}
	}

	// deps returns p's transitive imports within the module, with the
	// import chain that reaches each.
	deps := func(p string) map[string][]string {
		chain := map[string][]string{}
		var visit func(q string, path []string)
		visit = func(q string, path []string) {
			for _, imp := range pkgs[q].internal {
				if _, seen := chain[imp]; seen {
					continue
				}
				chain[imp] = append(slices.Clip(path), imp)
				visit(imp, chain[imp])
			}
		}
		visit(p, []string{p})
		return chain
	}

	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, rule := range importRules {
		for _, p := range names {
			if !matchPkg(rule.from, p) || slices.ContainsFunc(rule.except, func(e string) bool { return matchPkg(e, p) }) {
				continue
			}
			for dep, chain := range deps(p) {
				for _, never := range rule.never {
					if matchPkg(never, dep) {
						t.Errorf("%s imports %s (%s); want never: %s", show(p), show(dep), strings.Join(showAll(chain), " -> "), rule.why)
					}
				}
			}
		}
	}
	for _, p := range names {
		if isTestHelper(p) {
			continue
		}
		if slices.Contains(pkgs[p].std, "testing") {
			t.Errorf("%s (%s) imports testing in non-test code; test helpers belong in a …test package", show(p), pkgs[p].files["testing"])
		}
		for dep, chain := range deps(p) {
			if isTestHelper(dep) {
				t.Errorf("%s imports the test-helper package %s (%s) in non-test code", show(p), show(dep), strings.Join(showAll(chain), " -> "))
			}
		}
	}
}

// pkgImports are the imports of one package's non-test files.
type pkgImports struct {
	internal []string          // module packages, relative to the module root
	std      []string          // everything else, as written
	files    map[string]string // import path -> a file importing it, for messages
}

// parseImports returns the imports of every package under root by path
// relative to the module root ("" for the root itself). It skips testdata,
// hidden and underscore directories, as the go command does.
func parseImports(t *testing.T, root, module string) map[string]*pkgImports {
	t.Helper()
	pkgs := map[string]*pkgImports{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = ""
		}
		p := pkgs[dir]
		if p == nil {
			p = &pkgImports{files: map[string]string{}}
			pkgs[dir] = p
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if _, dup := p.files[imp]; dup {
				continue
			}
			p.files[imp] = filepath.ToSlash(path)
			switch {
			case imp == module:
				p.internal = append(p.internal, "")
			case strings.HasPrefix(imp, module+"/"):
				p.internal = append(p.internal, strings.TrimPrefix(imp, module+"/"))
			default:
				p.std = append(p.std, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the module: %v", err)
	}
	return pkgs
}

// modulePath reads the module path from go.mod.
func modulePath(t *testing.T) string {
	t.Helper()
	f, err := os.Open("go.mod")
	if err != nil {
		t.Fatalf("open go.mod: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

// matchPkg reports whether package p matches pattern: the same path; for
// "x/...", x or any package under it; for "...", any package.
func matchPkg(pattern, p string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// isTestHelper reports whether p is a test-helper package (sqlstoretest,
// catalogtest, portaltest): its name ends in "test".
func isTestHelper(p string) bool { return strings.HasSuffix(p[strings.LastIndex(p, "/")+1:], "test") }

func show(p string) string {
	if p == "" {
		return "the root package"
	}
	return p
}

func showAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = show(p)
	}
	return out
}
