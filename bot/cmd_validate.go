package bot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

const validateSummary = `Validate Backstage descriptor files (catalog-info.yaml and friends) with
Backstage's rules, offline: YAML syntax, root fields, names, namespaces,
labels, annotations, tags, links, apiVersion/kind pairs and each kind's
required spec fields.

Each PATH is a file or a directory; directories are searched recursively for
*.yaml and *.yml files, leaving out hidden directories (.git, ...) and
Software Template skeletons (directories named skeleton or template, whose
files hold ${{ }} placeholders until rendered). Documents that are not
entity descriptors (no apiVersion, kind and metadata: mkdocs.yml, OpenAPI
documents) are skipped; -v lists them.

Entities that only Backstage's alpha catalog model defines (kind AiResource,
an mcp-server API with spec.remotes) are valid but noted: a portal in its
default configuration, and portalbot unless its config sets catalog_model:
alpha, refuses them. --catalog-model default counts them as problems (what
sync will do), --catalog-model alpha accepts them without a note.

Each problem is printed as path:line: message, then a summary line.
Exit status: 0 when every descriptor is valid, 1 when any is not (or a file
cannot be read), 2 on usage errors.`

func runValidate(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "validate", "validate [-v] PATH...", validateSummary)
	fs.SetOutput(env.Stdout)
	verbose := fs.Bool("v", false, "also list each file's entities count and skipped documents and directories")
	model := fs.String("catalog-model", "any", "`model` to check against: any (alpha-only entities valid, with a note), default (they are problems, as sync's default catalog_model makes them) or alpha")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	if m := *model; m != "any" && m != "default" && m != "alpha" {
		fmt.Fprintf(env.Stderr, "portalbot validate: --catalog-model: want any, default or alpha, got %q\n", m)
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.Stderr, "portalbot validate: no PATH given (try: portalbot validate catalog-info.yaml)")
		return ExitUsage
	}
	var files []string
	for _, p := range fs.Args() {
		found, err := descriptorFiles(p, func(dir string) {
			if *verbose {
				fmt.Fprintf(env.Stdout, "%s: skipped (template skeleton directory)\n", dir)
			}
		})
		if err != nil {
			fmt.Fprintf(env.Stderr, "portalbot validate: %v\n", err)
			return ExitUsage
		}
		files = append(files, found...)
	}

	var entities, problems, badFiles, skipped int
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(env.Stderr, "portalbot validate: %v\n", err)
			return ExitFail
		}
		res, err := validateFile(f)
		if err != nil {
			fmt.Fprintf(env.Stdout, "%s: %v\n", f, err)
			problems++
			badFiles++
			continue
		}
		if *model != "alpha" {
			kept := res.Entities[:0]
			for _, e := range res.Entities {
				why := catalog.AlphaModelOnly(e)
				switch {
				case why == "":
					kept = append(kept, e)
				case *model == "default":
					res.Errors = append(res.Errors, catalog.ProcessingError{Path: filepath.ToSlash(f), Line: e.Origin.Line,
						Message: why + "; set catalog_model: alpha to accept it"})
				default:
					kept = append(kept, e)
					fmt.Fprintf(env.Stdout, "%s:%d: note: %s; a default Backstage, and portalbot unless catalog_model: alpha, refuses it\n",
						filepath.ToSlash(f), e.Origin.Line, why)
				}
			}
			res.Entities = kept
		}
		for _, e := range res.Errors {
			fmt.Fprintln(env.Stdout, e.String())
		}
		if len(res.Errors) > 0 {
			badFiles++
		}
		problems += len(res.Errors)
		entities += len(res.Entities)
		skipped += len(res.Skipped)
		if *verbose {
			for _, line := range res.Skipped {
				fmt.Fprintf(env.Stdout, "%s:%d: skipped: not an entity descriptor\n", f, line)
			}
			fmt.Fprintf(env.Stdout, "%s: %d valid %s\n", f, len(res.Entities), plural(len(res.Entities), "entity", "entities"))
		}
	}

	summary := fmt.Sprintf("%d %s, %d valid %s", len(files), plural(len(files), "file", "files"), entities, plural(entities, "entity", "entities"))
	if skipped > 0 {
		summary += fmt.Sprintf(", %d non-descriptor %s skipped", skipped, plural(skipped, "document", "documents"))
	}
	if problems == 0 {
		fmt.Fprintf(env.Stdout, "ok: %s\n", summary)
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "FAIL: %s; %d %s in %d %s\n", summary, problems, plural(problems, "problem", "problems"), badFiles, plural(badFiles, "file", "files"))
	return ExitFail
}

// validateFile parses one file; the error is for a file that cannot be
// opened (parse problems are in the result).
func validateFile(path string) (catalog.ParseResult, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the caller prints the path
		}
		return catalog.ParseResult{}, err
	}
	defer f.Close()
	return catalog.ParseFile(f, filepath.ToSlash(path)), nil
}

// descriptorFiles returns path itself when it is a file, and the *.yaml
// and *.yml files below it, in lexical order, when it is a directory.
// Hidden directories are left out, and so are template skeleton
// directories, reported to skipDir.
func descriptorFiles(path string, skipDir func(string)) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p == path {
				return nil
			}
			if strings.HasPrefix(name, ".") || name == "node_modules" {
				return filepath.SkipDir
			}
			if name == "skeleton" || name == "template" {
				skipDir(filepath.ToSlash(p))
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
