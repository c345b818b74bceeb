package scaffolder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/portalbot/portalbot/catalog"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// schemaCache holds compiled step schemas by template etag and step, so a
// busy template is not recompiled on every submission.
type schemaCache struct {
	mu sync.Mutex
	m  map[string]*compiled // guarded by mu
}

type compiled struct {
	schema *jsonschema.Schema
	err    error
}

// maxCachedSchemas bounds schemaCache; it is cleared when full.
const maxCachedSchemas = 512

func (c *schemaCache) get(key string, schema map[string]any) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && key != "" {
		return e.schema, e.err
	}
	s, err := compileSchema(schema)
	if c.m == nil || len(c.m) >= maxCachedSchemas {
		c.m = map[string]*compiled{}
	}
	c.m[key] = &compiled{s, err}
	return s, err
}

// compileSchema compiles one step's JSON Schema as draft-07, the draft
// Backstage's form (react-jsonschema-form with ajv) validates with, so
// draft-07's dependencies keyword works. Patterns that Go's regexp cannot
// compile (look-arounds) are dropped rather than failing the whole form.
func compileSchema(schema map[string]any) (*jsonschema.Schema, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	dropBadPatterns(doc, 0)
	if m, ok := doc.(map[string]any); ok {
		delete(m, "$schema")
		delete(m, "$id")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(noLoader{})
	if err := c.AddResource("template-step.json", doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile("template-step.json")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return s, nil
}

// noLoader refuses every external $ref: a template must not make the bot
// fetch URLs or read files.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema %s not allowed", url)
}

func dropBadPatterns(v any, depth int) {
	if depth > 32 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if p, ok := x["pattern"].(string); ok {
			if _, err := regexp.Compile(p); err != nil {
				delete(x, "pattern")
			}
		}
		for _, e := range x {
			dropBadPatterns(e, depth+1)
		}
	case []any:
		for _, e := range x {
			dropBadPatterns(e, depth+1)
		}
	}
}

// jsonValues round-trips values through JSON so the validator sees only
// JSON types.
func jsonValues(values map[string]any) (any, error) {
	b, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
}

// schemaErrors validates values against a compiled step schema and returns
// messages by value path ("a.b"); "" holds errors no field claims.
func schemaErrors(s *jsonschema.Schema, values map[string]any) (map[string]string, error) {
	inst, err := jsonValues(values)
	if err != nil {
		return nil, err
	}
	err = s.Validate(inst)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	out := map[string]string{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		loc := strings.Join(e.InstanceLocation, ".")
		if r, ok := e.ErrorKind.(*kind.Required); ok {
			for _, m := range r.Missing {
				p := m
				if loc != "" {
					p = loc + "." + m
				}
				if _, dup := out[p]; !dup {
					out[p] = "Required."
				}
			}
			return
		}
		if _, dup := out[loc]; !dup {
			out[loc] = message1(e.ErrorKind)
		}
	}
	walk(ve)
	return out, nil
}

func message1(k jsonschema.ErrorKind) string {
	switch x := k.(type) {
	case *kind.Pattern:
		if d := describePattern(x.Want); d != "" {
			return d
		}
		// The raw pattern means nothing to most people; the field's hint
		// (its description) is what tells them the format.
		return "Not in the format this field expects; see the field's hint."
	case *kind.MinLength:
		return fmt.Sprintf("At least %d characters.", x.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("At most %d characters.", x.Want)
	case *kind.Enum:
		return "Not one of the allowed values."
	case *kind.Format:
		return fmt.Sprintf("Not a valid %s.", x.Want)
	case *kind.Type:
		words := make([]string, len(x.Want))
		for i, w := range x.Want {
			words[i] = typeWords(w)
		}
		return sentence("Must be " + strings.Join(words, " or "))
	}
	s := k.LocalizedString(printer)
	if s == "" {
		return "Invalid value."
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// builtinErrors applies the checks Backstage's form runs for its field
// extensions, which the JSON Schema does not express.
func (s *Service) builtinErrors(ctx context.Context, fields []field, values map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for i := range fields {
		f := &fields[i]
		v, ok := lookup(values, f.Path)
		if !ok || v == nil {
			continue
		}
		switch f.UIField {
		case fieldEntityName:
			str, _ := v.(string)
			if !catalog.IsValidName(str) {
				out[f.Name] = "Must be 1-63 characters of letters, digits and - _ . starting and ending with a letter or digit."
			}
		case fieldRepoURL:
			str, _ := v.(string)
			if msg := checkRepoURL(f, str); msg != "" {
				out[f.Name] = msg
			}
		case fieldOwner, fieldEntity, fieldOwnedEntity, fieldMyGroups:
			str, _ := v.(string)
			ref, msg, err := s.checkEntity(ctx, f, str)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				out[f.Name] = msg
			} else {
				set(values, f.Path, ref)
			}
		case fieldMultiEntity:
			list, _ := v.([]any)
			refs := make([]any, 0, len(list))
			for _, e := range list {
				ref, msg, err := s.checkEntity(ctx, f, toString(e))
				if err != nil {
					return nil, err
				}
				if msg != "" {
					out[f.Name] = msg
					break
				}
				refs = append(refs, ref)
			}
			set(values, f.Path, refs)
		}
	}
	return out, nil
}

func checkRepoURL(f *field, s string) string {
	r, err := parseRepoURL(s)
	if err != nil {
		return "Give a host, an owner and a repository name (letters, digits, '.', '-', '_')."
	}
	opts, _ := f.Schema["ui:options"].(map[string]any)
	if hosts := stringList(opts["allowedHosts"]); len(hosts) > 0 && !containsFold(hosts, r.Host) {
		return "Host must be one of " + strings.Join(hosts, ", ") + "."
	}
	if owners := stringList(opts["allowedOwners"]); len(owners) > 0 && !containsFold(owners, r.Owner) {
		return "Owner must be one of " + strings.Join(owners, ", ") + "."
	}
	if repos := stringList(opts["allowedRepos"]); len(repos) > 0 && !containsFold(repos, r.Repo) {
		return "Repository must be one of " + strings.Join(repos, ", ") + "."
	}
	if r.Owner == "" && r.Organization == "" && r.Workspace == "" {
		return "Give the repository's owner."
	}
	return ""
}

// checkEntity resolves an entity picker's value and checks that the entity
// exists and is of an allowed kind; it returns the canonical ref.
func (s *Service) checkEntity(ctx context.Context, f *field, v string) (string, string, error) {
	opts, _ := f.Schema["ui:options"].(map[string]any)
	defKind, _ := opts["defaultKind"].(string)
	if defKind == "" && len(f.Kinds) > 0 {
		defKind = f.Kinds[0]
	}
	defNS, _ := opts["defaultNamespace"].(string)
	ref, err := catalog.ParseRef(v, defKind, defNS)
	if err != nil {
		return "", "Not an entity reference (kind:namespace/name).", nil
	}
	if len(f.Kinds) > 0 && !containsFold(f.Kinds, ref.Kind) {
		return "", "Must be a " + strings.Join(f.Kinds, " or ") + ".", nil
	}
	if _, err := s.store.Entity(ctx, ref); err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return "", fmt.Sprintf("No %s named %s in the catalog.", strings.ToLower(ref.Kind), ref.Display()), nil
		}
		return "", "", err
	}
	return ref.String(), "", nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func lookup(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func set(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// typeWords names a JSON Schema type as a form's reader would.
func typeWords(t string) string {
	switch t {
	case "string":
		return "text"
	case "integer":
		return "a whole number"
	case "number":
		return "a number"
	case "boolean":
		return "yes or no"
	case "array":
		return "a list"
	case "object":
		return "a set of named values"
	case "null":
		return "empty"
	}
	return t
}
