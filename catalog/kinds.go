// Backstage's per-kind rules (apiVersions, required spec fields, relation fields) in one file
// (over 500 lines), so the kinds read side by side against @backstage/catalog-model.

package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// API versions of the built-in kinds. The core kinds' JSON schemas in
// @backstage/catalog-model (schema/kinds/*.v1alpha1.schema.json) accept
// both backstage.io/v1alpha1 and v1beta1; AiResource only v1alpha1; the
// scaffolder's Template kind only scaffolder.backstage.io/v1beta3.
const (
	APIVersionV1alpha1 = "backstage.io/v1alpha1"
	APIVersionV1beta1  = "backstage.io/v1beta1"
	APIVersionTemplate = "scaffolder.backstage.io/v1beta3"
)

// kindSpec describes one built-in kind: the apiVersions it may be written
// with, the checks on its spec, and the spec fields that are entity
// references and the relations they produce.
type kindSpec struct {
	versions []string
	check    func(c *specChecker)
	refs     []refField
	// typeRefs adds reference fields for one spec.type, as the catalog
	// model's per-specType versions do (AiResource skill, plugin, marketplace).
	typeRefs map[string][]refField
}

// refsFor returns the reference fields of an entity of this kind whose
// spec is spec: the kind's own, then its spec.type's.
func (ks kindSpec) refsFor(spec map[string]any) []refField {
	t, _ := spec["type"].(string)
	extra := ks.typeRefs[t]
	if len(extra) == 0 {
		return ks.refs
	}
	return append(slices.Clip(ks.refs), extra...)
}

// refField is a spec field holding one or a list of entity references:
// the fields BuiltinKindsEntityProcessor (@backstage/plugin-catalog-backend)
// emits relations for, the scaffolder's processor for Template owners, and
// the relationFields of the alpha catalog model's AiResource kind.
type refField struct {
	field string
	list  bool
	// defaultKind applies to references that name no kind; "" means the
	// reference must name one (dependsOn, dependencyOf).
	defaultKind string
	rel, inv    string
	// allowed lists the kinds a target may have (the alpha model's
	// allowedKinds, compared case-insensitively); a reference to another
	// kind makes no relation at all. Nil allows every kind, as
	// BuiltinKindsEntityProcessor does for the core kinds.
	allowed []string
	// required is set for per-type fields the type's schema requires.
	required bool
}

var (
	ownerRef  = refField{field: "owner", defaultKind: KindGroup, rel: RelOwnedBy, inv: RelOwnerOf}
	systemRef = refField{field: "system", defaultKind: KindSystem, rel: RelPartOf, inv: RelHasPart}
	dependsOn = refField{field: "dependsOn", list: true, rel: RelDependsOn, inv: RelDependencyOf}
	depOf     = refField{field: "dependencyOf", list: true, rel: RelDependencyOf, inv: RelDependsOn}
)

var coreVersions = []string{APIVersionV1alpha1, APIVersionV1beta1}

// kinds maps each built-in kind to its rules.
var kinds = map[string]kindSpec{
	KindComponent: {
		versions: coreVersions,
		check: func(c *specChecker) {
			c.str("type", true)
			c.str("lifecycle", true)
		},
		refs: []refField{
			ownerRef,
			{field: "subcomponentOf", defaultKind: KindComponent, rel: RelPartOf, inv: RelHasPart},
			{field: "providesApis", list: true, defaultKind: KindAPI, rel: RelProvidesAPI, inv: RelAPIProvidedBy},
			{field: "consumesApis", list: true, defaultKind: KindAPI, rel: RelConsumesAPI, inv: RelAPIConsumedBy},
			dependsOn, depOf, systemRef,
		},
	},
	KindAPI: {
		versions: coreVersions,
		check: func(c *specChecker) {
			c.str("type", true)
			c.str("lifecycle", true)
			// PLATFORM.md: recent Backstage accepts spec.remotes (a list of
			// {type, url}, used by type mcp-server) instead of definition;
			// catalog-model 1.10 still required definition. We follow the
			// newer rule: one of the two.
			_, hasDef := c.spec["definition"]
			_, hasRemotes := c.spec["remotes"]
			if !hasDef && !hasRemotes {
				c.add("required (or spec.remotes)", "definition")
			}
			if hasDef {
				c.str("definition", true)
			}
			if hasRemotes {
				c.remotes()
			}
		},
		refs: []refField{ownerRef, systemRef},
	},
	KindResource: {
		versions: coreVersions,
		check:    func(c *specChecker) { c.str("type", true) },
		refs:     []refField{ownerRef, dependsOn, depOf, systemRef},
	},
	KindSystem: {
		versions: coreVersions,
		check:    func(c *specChecker) { c.str("type", false) },
		refs: []refField{
			ownerRef,
			{field: "domain", defaultKind: KindDomain, rel: RelPartOf, inv: RelHasPart},
		},
	},
	KindDomain: {
		versions: coreVersions,
		check:    func(c *specChecker) { c.str("type", false) },
		refs: []refField{
			ownerRef,
			{field: "subdomainOf", defaultKind: KindDomain, rel: RelPartOf, inv: RelHasPart},
		},
	},
	KindGroup: {
		versions: coreVersions,
		check: func(c *specChecker) {
			c.str("type", true)
			c.profile()
			c.str("leader", false)
		},
		refs: []refField{
			{field: "parent", defaultKind: KindGroup, rel: RelChildOf, inv: RelParentOf},
			{field: "children", list: true, defaultKind: KindGroup, rel: RelParentOf, inv: RelChildOf},
			{field: "members", list: true, defaultKind: KindUser, rel: RelHasMember, inv: RelMemberOf},
		},
	},
	KindUser: {
		versions: coreVersions,
		check: func(c *specChecker) {
			c.profile()
			c.strList("leaderOf", false)
		},
		refs: []refField{
			{field: "memberOf", list: true, defaultKind: KindGroup, rel: RelMemberOf, inv: RelHasMember},
		},
	},
	KindLocation: {
		versions: coreVersions,
		check: func(c *specChecker) {
			c.str("type", false)
			c.str("target", false)
			c.strList("targets", false)
			if p, ok := c.spec["presence"]; ok && p != "required" && p != "optional" {
				c.add("must be \"required\" or \"optional\"", "presence")
			}
		},
	},
	KindTemplate: {
		versions: []string{APIVersionTemplate},
		check: func(c *specChecker) {
			c.str("type", true)
			c.templateParameters()
			c.templateSteps()
			if o, ok := c.spec["output"]; ok && o != nil {
				if _, isMap := o.(map[string]any); !isMap {
					c.add("must be a mapping", "output")
				}
			}
		},
		refs: []refField{{field: "owner", defaultKind: KindGroup, rel: RelOwnedBy, inv: RelOwnerOf}},
	},
	KindAiResource: {
		versions: []string{APIVersionV1alpha1},
		check: func(c *specChecker) {
			c.str("type", true)
			c.str("lifecycle", true)
			c.aiResourceType()
		},
		// catalog-model alpha AiResourceEntityV1alpha1: owner a Group or
		// User, system a System, and per spec.type relation fields, each
		// limited to AiResource targets. Every kind a field allows is one
		// the model declares the relation pair for, so each relation made
		// has its inverse.
		refs: []refField{
			{field: "owner", defaultKind: KindGroup, rel: RelOwnedBy, inv: RelOwnerOf, allowed: []string{KindGroup, KindUser}},
			{field: "system", defaultKind: KindSystem, rel: RelPartOf, inv: RelHasPart, allowed: []string{KindSystem}},
		},
		typeRefs: map[string][]refField{
			"skill":       {{field: "dependsOn", list: true, defaultKind: KindAiResource, rel: RelDependsOn, inv: RelDependencyOf, allowed: []string{KindAiResource}}},
			"plugin":      {{field: "skills", list: true, defaultKind: KindAiResource, rel: RelHasPart, inv: RelPartOf, allowed: []string{KindAiResource}, required: true}},
			"marketplace": {{field: "plugins", list: true, defaultKind: KindAiResource, rel: RelHasPart, inv: RelPartOf, allowed: []string{KindAiResource}, required: true}},
		},
	},
}

// requiredRefs lists, per kind, the reference fields its schema requires.
var requiredRefs = map[string][]string{
	KindComponent:  {"owner"},
	KindAPI:        {"owner"},
	KindResource:   {"owner"},
	KindSystem:     {"owner"},
	KindDomain:     {"owner"},
	KindGroup:      {"children"},
	KindUser:       {"memberOf"},
	KindAiResource: {"owner"},
}

// KnownKind returns the canonical spelling of kind when it is one of the
// built-in kinds, compared case-insensitively, and false otherwise.
func KnownKind(kind string) (string, bool) {
	if k, ascii := kindByLower(kind); ascii {
		return k, k != ""
	}
	for k := range kinds {
		if strings.EqualFold(k, kind) {
			return k, true
		}
	}
	return "", false
}

// kindsByLower maps each built-in kind, in lower case, to its spelling.
var kindsByLower = func() map[string]string {
	m := make(map[string]string, len(kinds))
	for k := range kinds {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// kindByLower is KnownKind for an ASCII kind, by a map lookup rather than
// a fold against every kind: ParseRef calls KnownKind for every reference
// a sync reads. ascii is false when kind has a byte outside ASCII, which
// Unicode folding may still match (the Kelvin sign folds to k), or when
// kind is too long for the buffer; both are left to the fold.
func kindByLower(kind string) (canon string, ascii bool) {
	var buf [32]byte
	if len(kind) > len(buf) {
		return "", false
	}
	for i := 0; i < len(kind); i++ {
		c := kind[i]
		switch {
		case c >= 0x80:
			return "", false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return kindsByLower[string(buf[:len(kind)])], true
}

func knownKindList() string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (v *validator) kind(e *Entity) {
	if e.Kind == "" || !isValidKind(e.Kind) {
		return // already reported by envelope
	}
	ks, ok := kinds[e.Kind]
	if !ok {
		if canon, ok := KnownKind(e.Kind); ok {
			v.add(fmt.Sprintf("%s must be written %q", quote(e.Kind), canon), "kind")
		} else {
			v.add(fmt.Sprintf("unknown kind %s; portalbot knows %s", quote(e.Kind), knownKindList()), "kind")
		}
		return
	}
	if isValidAPIVersion(e.APIVersion) && !slices.Contains(ks.versions, e.APIVersion) {
		v.add(fmt.Sprintf("%s is not a version of kind %s; use %s", quote(e.APIVersion), e.Kind, strings.Join(ks.versions, " or ")), "apiVersion")
	}
	if e.Spec == nil {
		v.add("required", "spec")
		return
	}
	c := &specChecker{v: v, spec: e.Spec, namespace: e.Ref().Namespace}
	ks.check(c)
	required := requiredRefs[e.Kind]
	for _, rf := range ks.refsFor(e.Spec) {
		c.ref(rf, rf.required || slices.Contains(required, rf.field))
	}
}

// maxCompatibility is the skill schema's maxLength for spec.compatibility
// (catalog-model alpha, AiResource.v1alpha1.skill.schema.json).
const maxCompatibility = 500

// aiResourceType checks the fields the AiResource schema of the entity's
// spec.type adds (catalog-model alpha, AiResource.v1alpha1.<type>.schema.json):
// a rule needs category and rationale, and the per-type reference lists
// (skill dependsOn, plugin skills, marketplace plugins) are checked with
// the other references. Other types only have the base schema.
func (c *specChecker) aiResourceType() {
	t, _ := c.spec["type"].(string)
	switch t {
	case "skill":
		for _, k := range []string{"disciplines", "categories", "agents"} {
			c.strList(k, false)
		}
		for _, k := range []string{"allowedTools", "license", "compatibility"} {
			c.str(k, false)
		}
		if s, ok := c.spec["compatibility"].(string); ok && len([]rune(s)) > maxCompatibility {
			c.add(fmt.Sprintf("must be at most %d characters", maxCompatibility), "compatibility")
		}
	case "rule":
		c.strList("disciplines", false)
		c.str("category", true)
		c.str("rationale", true)
	case "plugin", "marketplace":
		c.str("version", false)
	}
}

// specChecker checks the fields of one entity's spec.
type specChecker struct {
	v         *validator
	spec      map[string]any
	namespace string
}

func (c *specChecker) add(msg string, path ...string) {
	c.v.add(msg, append([]string{"spec"}, path...)...)
}

// str checks that spec[key] is a non-empty string (JSON schema
// "type": "string", "minLength": 1), and that it is present when required.
func (c *specChecker) str(key string, required bool) {
	val, ok := c.spec[key]
	if !ok || val == nil {
		if required {
			c.add("required", key)
		}
		return
	}
	if _, _, ok := Placeholder(val); ok {
		return // resolved to a string when the entity is processed
	}
	s, isStr := val.(string)
	switch {
	case !isStr:
		c.add("must be a string, not "+typeName(val), key)
	case s == "":
		c.add("must not be empty", key)
	}
}

// strList checks that spec[key] is a list of non-empty strings.
func (c *specChecker) strList(key string, required bool) {
	val, ok := c.spec[key]
	if !ok || val == nil {
		if required {
			c.add("required", key)
		}
		return
	}
	list, isList := val.([]any)
	if !isList {
		c.add("must be a list of strings, not "+typeName(val), key)
		return
	}
	for i, x := range list {
		s, isStr := x.(string)
		switch {
		case !isStr:
			c.add("must be a string, not "+typeName(x), key, strconv.Itoa(i))
		case s == "":
			c.add("must not be empty", key, strconv.Itoa(i))
		}
	}
}

// ref checks a reference field's type and that each reference parses with
// the field's default kind and the entity's namespace, as
// parseEntityRef would when the relations are emitted.
func (c *specChecker) ref(rf refField, required bool) {
	before := len(c.v.problems)
	if rf.list {
		c.strList(rf.field, required)
	} else {
		c.str(rf.field, required)
	}
	if len(c.v.problems) > before {
		return
	}
	for i, s := range refValues(c.spec, rf) {
		if _, err := ParseRef(s, rf.defaultKind, c.namespace); err != nil {
			path := []string{rf.field}
			if rf.list {
				path = append(path, strconv.Itoa(i))
			}
			msg := fmt.Sprintf("%s is not an entity reference [kind:][namespace/]name", quote(s))
			if rf.defaultKind == "" && !strings.Contains(s, ":") {
				msg = fmt.Sprintf("%s must name its kind (kind:[namespace/]name)", quote(s))
			}
			c.add(msg, path...)
		}
	}
}

func (c *specChecker) profile() {
	p, ok := c.spec["profile"]
	if !ok || p == nil {
		return
	}
	m, isMap := p.(map[string]any)
	if !isMap {
		c.add("must be a mapping, not "+typeName(p), "profile")
		return
	}
	for _, k := range []string{"displayName", "email", "picture"} {
		if val, ok := m[k]; ok && val != nil {
			if s, isStr := val.(string); !isStr || s == "" {
				c.add("must be a non-empty string", "profile", k)
			}
		}
	}
}

// remotes checks an API's spec.remotes: at least one {type, url}
// (API.v1alpha1.mcp-server.schema.json).
func (c *specChecker) remotes() {
	list, ok := c.spec["remotes"].([]any)
	if !ok {
		c.add("must be a list of {type, url}, not "+typeName(c.spec["remotes"]), "remotes")
		return
	}
	if len(list) == 0 {
		c.add("must list at least one remote", "remotes")
	}
	for i, x := range list {
		m, isMap := x.(map[string]any)
		if !isMap {
			c.add("must be a mapping with type and url", "remotes", strconv.Itoa(i))
			continue
		}
		for _, k := range []string{"type", "url"} {
			if s, isStr := m[k].(string); !isStr || s == "" {
				c.add("required non-empty string", "remotes", strconv.Itoa(i), k)
			}
		}
	}
}

// templateParameters checks spec.parameters: absent, one JSON schema
// object, or a list of them (Template.v1beta3.schema.json).
func (c *specChecker) templateParameters() {
	p, ok := c.spec["parameters"]
	if !ok || p == nil {
		return
	}
	switch p := p.(type) {
	case map[string]any:
	case []any:
		for i, x := range p {
			if _, isMap := x.(map[string]any); !isMap {
				c.add("must be a mapping (a JSON schema), not "+typeName(x), "parameters", strconv.Itoa(i))
			}
		}
	default:
		c.add("must be a mapping or a list of mappings, not "+typeName(p), "parameters")
	}
}

// templateSteps checks spec.steps: a list of mappings, each naming its
// action; id, name and action are strings, input a mapping, if a string
// or boolean.
func (c *specChecker) templateSteps() {
	s, ok := c.spec["steps"]
	if !ok || s == nil {
		c.add("required", "steps")
		return
	}
	steps, isList := s.([]any)
	if !isList {
		c.add("must be a list of steps, not "+typeName(s), "steps")
		return
	}
	for i, x := range steps {
		idx := strconv.Itoa(i)
		m, isMap := x.(map[string]any)
		if !isMap {
			c.add("must be a mapping, not "+typeName(x), "steps", idx)
			continue
		}
		if a, ok := m["action"]; !ok || a == nil {
			c.add("required", "steps", idx, "action")
		}
		for _, k := range []string{"id", "name", "action"} {
			if val, ok := m[k]; ok && val != nil {
				if _, isStr := val.(string); !isStr {
					c.add("must be a string, not "+typeName(val), "steps", idx, k)
				}
			}
		}
		if in, ok := m["input"]; ok && in != nil {
			if _, isMap := in.(map[string]any); !isMap {
				c.add("must be a mapping, not "+typeName(in), "steps", idx, "input")
			}
		}
		if cond, ok := m["if"]; ok && cond != nil {
			switch cond.(type) {
			case string, bool:
			default:
				c.add("must be a string or a boolean, not "+typeName(cond), "steps", idx, "if")
			}
		}
	}
}

// refValues returns the references written in a reference field: one for
// a single field, every string element for a list.
// refCount is len(refValues(spec, rf)), without building the list.
func refCount(spec map[string]any, rf refField) int {
	switch v := spec[rf.field].(type) {
	case string:
		if v != "" {
			return 1
		}
	case []any:
		n := 0
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				n++
			}
		}
		return n
	case []string:
		return len(v)
	}
	return 0
}

func refValues(spec map[string]any, rf refField) []string {
	switch v := spec[rf.field].(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// typeName names a decoded YAML value's type the way a user writes it.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
