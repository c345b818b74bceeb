// Every JSON Schema field type of a template turned into a form field, in one file (over 500
// lines): the types share their conversion and validation helpers.

package scaffolder

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/portalbot/portalbot/commands"
	"gopkg.in/yaml.v3"
)

// maxStaticOptions is the most options a static select may hold: Slack's
// static_select takes at most 100 (PLATFORM.md, Block Kit limits). Longer
// lists become a type-ahead external select.
const maxStaticOptions = 100

// Field extensions Backstage's form ships that this package understands.
const (
	fieldEntityName  = "EntityNamePicker"
	fieldRepoURL     = "RepoUrlPicker"
	fieldOwner       = "OwnerPicker"
	fieldEntity      = "EntityPicker"
	fieldMultiEntity = "MultiEntityPicker"
	fieldOwnedEntity = "OwnedEntityPicker"
	fieldMyGroups    = "MyGroupsPicker"
	fieldSecret      = "Secret"
	fieldEntityTags  = "EntityTagsPicker"
)

// field is one value a form step asks for, flattened from the step's JSON
// Schema: nested objects become one field per leaf ("a.b").
type field struct {
	// Path is where the value goes in the template's parameters.
	Path []string
	// Name is Path joined by ".", the Input.Name (or its prefix for a
	// RepoUrlPicker, which asks for host, owner and repo separately).
	Name     string
	Label    string
	Hint     string
	Schema   map[string]any
	Required bool
	// Type is the schema type: string, number, integer, boolean, array,
	// object; "" when the schema names none.
	Type    string
	UIField string
	Widget  string
	// Secret fields (ui:field Secret, ui:widget password) are masked in
	// the audit log; Secret field values go to the task's secrets.
	Secret bool
	// Hidden fields (ui:widget hidden, const) are not asked; their default
	// is used.
	Hidden bool
	// Kinds are the entity kinds an entity picker may offer; nil means any.
	Kinds []string
	// Filters are ui:options.catalogFilter, one map per alternative.
	Filters []map[string]any
	// Options are the static choices (enum, items.enum, oneOf consts).
	Options []commands.Option
	// Conditional marks a field from a dependencies/oneOf/if branch.
	Conditional bool
}

// stepFields flattens one form step into fields, ordered by ui:order when
// given, then required fields in their listed order, then by name.
func stepFields(schema map[string]any) []field {
	var out []field
	collect(&out, nil, "", schema, false, 0)
	return out
}

func collect(out *[]field, prefix []string, labelPrefix string, schema map[string]any, conditional bool, depth int) {
	if depth > 8 {
		return
	}
	props, _ := schema["properties"].(map[string]any)
	required := stringList(schema["required"])
	seen := map[string]bool{}
	for _, f := range *out {
		seen[f.Name] = true
	}
	for _, name := range orderNames(props, required, stringList(schema["ui:order"])) {
		ps, ok := props[name].(map[string]any)
		if !ok {
			continue
		}
		path := append(append([]string(nil), prefix...), name)
		full := strings.Join(path, ".")
		if seen[full] {
			continue
		}
		label := title(ps, name)
		if labelPrefix != "" {
			label = labelPrefix + " › " + label
		}
		if typ, _ := ps["type"].(string); typ == "object" && ps["ui:field"] == nil {
			if _, has := ps["properties"].(map[string]any); has {
				collect(out, path, label, ps, conditional, depth+1)
				continue
			}
		}
		*out = append(*out, newField(path, label, ps, slices.Contains(required, name), conditional))
		seen[full] = true
	}
	// Conditional schema parts: render their extra properties as optional
	// fields; the schema itself still decides what is required.
	var branches []map[string]any
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		for _, b := range asList(schema[k]) {
			if m, ok := b.(map[string]any); ok {
				branches = append(branches, m)
			}
		}
	}
	for _, k := range []string{"then", "else"} {
		if m, ok := schema[k].(map[string]any); ok {
			branches = append(branches, m)
		}
	}
	if deps, ok := schema["dependencies"].(map[string]any); ok {
		for _, k := range sortedKeys(deps) {
			if m, ok := deps[k].(map[string]any); ok {
				branches = append(branches, m)
			}
		}
	}
	for _, b := range branches {
		bp, _ := b["properties"].(map[string]any)
		extra := map[string]any{}
		for k, v := range bp {
			if _, dup := props[k]; !dup {
				if m, ok := v.(map[string]any); ok && (m["type"] != nil || m["ui:field"] != nil || m["title"] != nil) {
					extra[k] = v
				}
			}
		}
		if len(extra) > 0 {
			collect(out, prefix, labelPrefix, map[string]any{"properties": extra}, true, depth+1)
		}
		collect(out, prefix, labelPrefix, map[string]any{"oneOf": b["oneOf"], "anyOf": b["anyOf"], "allOf": b["allOf"], "dependencies": b["dependencies"]}, true, depth+1)
	}
}

func orderNames(props map[string]any, required, uiOrder []string) []string {
	names := sortedKeys(props)
	rank := map[string]int{}
	n := 0
	for _, lists := range [][]string{uiOrder, required} {
		for _, k := range lists {
			if _, ok := rank[k]; !ok && k != "*" {
				rank[k] = n
				n++
			}
		}
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, iok := rank[names[i]]
		rj, jok := rank[names[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return false
	})
	return names
}

func newField(path []string, label string, s map[string]any, required, conditional bool) field {
	f := field{Path: path, Name: strings.Join(path, "."), Label: label, Schema: s, Required: required, Conditional: conditional}
	f.Type, _ = s["type"].(string)
	if l, ok := s["type"].([]any); ok && len(l) > 0 {
		f.Type, _ = l[0].(string)
	}
	f.UIField, _ = s["ui:field"].(string)
	f.Widget, _ = s["ui:widget"].(string)
	f.Hint, _ = s["ui:help"].(string)
	if d, _ := s["description"].(string); d != "" {
		if f.Hint == "" {
			f.Hint = d
		} else {
			f.Hint = d + " " + f.Hint
		}
	}
	f.Hint = strings.TrimSpace(f.Hint)
	f.Secret = f.UIField == fieldSecret || f.Widget == "password"
	f.Hidden = f.Widget == "hidden" || s["const"] != nil
	opts, _ := s["ui:options"].(map[string]any)
	switch f.UIField {
	case fieldOwner, fieldEntity, fieldMultiEntity, fieldOwnedEntity, fieldMyGroups:
		f.Kinds = stringList(opts["allowedKinds"])
		for _, c := range asList(opts["catalogFilter"]) {
			if m, ok := c.(map[string]any); ok {
				f.Filters = append(f.Filters, m)
				if len(f.Kinds) == 0 {
					f.Kinds = append(f.Kinds, stringList(m["kind"])...)
				}
			}
		}
		if len(f.Kinds) == 0 && (f.UIField == fieldOwner || f.UIField == fieldMyGroups) {
			// Backstage's OwnerPicker offers Groups and Users by default.
			f.Kinds = []string{"Group", "User"}
			if f.UIField == fieldMyGroups {
				f.Kinds = []string{"Group"}
			}
		}
	}
	f.Options = staticOptions(s)
	return f
}

// staticOptions reads enum/enumNames, items.enum and oneOf consts.
func staticOptions(s map[string]any) []commands.Option {
	src := s
	if items, ok := s["items"].(map[string]any); ok && s["type"] == "array" {
		src = items
	}
	var opts []commands.Option
	names := asList(src["enumNames"])
	for i, v := range asList(src["enum"]) {
		o := commands.Option{Value: toString(v), Label: toString(v)}
		if i < len(names) {
			o.Label = toString(names[i])
		}
		opts = append(opts, o)
	}
	if len(opts) > 0 {
		return opts
	}
	for _, b := range append(asList(src["oneOf"]), asList(src["anyOf"])...) {
		m, ok := b.(map[string]any)
		if !ok {
			return nil
		}
		c, has := m["const"]
		if !has {
			return nil
		}
		o := commands.Option{Value: toString(c), Label: toString(c)}
		if t, _ := m["title"].(string); t != "" {
			o.Label = t
		}
		opts = append(opts, o)
	}
	return opts
}

// isEntityPicker reports whether the field's options come from the catalog.
func (f *field) isEntityPicker() bool {
	switch f.UIField {
	case fieldOwner, fieldEntity, fieldMultiEntity, fieldOwnedEntity, fieldMyGroups:
		return true
	}
	return false
}

// known reports whether chat can render the field as the portal means it.
func (f *field) known() bool {
	switch f.UIField {
	case "", fieldEntityName, fieldRepoURL, fieldSecret, fieldEntityTags:
		return true
	}
	return f.isEntityPicker()
}

// repoInputs are the parts a RepoUrlPicker is asked as.
var repoInputs = []string{"host", "owner", "repo"}

// Inputs returns the form inputs for the field. entityOpts are the catalog
// choices of an entity picker; source names the type-ahead source used
// instead when there are more than maxStaticOptions of them.
func (f *field) Inputs(def any, entityOpts []commands.Option, source string) []commands.Input {
	if f.Hidden {
		return nil
	}
	in := commands.Input{Name: f.Name, Label: f.Label, Hint: f.Hint, Required: f.Required, Kind: commands.InputText}
	in.MinLength, in.MaxLength = intOf(f.Schema["minLength"]), intOf(f.Schema["maxLength"])
	if def == nil {
		def = f.Schema["default"]
	}
	in.Default = defaultStrings(def)
	if p, _ := f.Schema["ui:placeholder"].(string); p != "" {
		in.Placeholder = p
	}
	if f.Conditional {
		in.Required = false
		in.Hint = addHint(in.Hint, "Needed only for some answers.")
	}
	switch {
	case f.UIField == fieldRepoURL:
		return f.repoInputs(in)
	case f.isEntityPicker():
		in.Options = entityOpts
		switch {
		case f.UIField == fieldMultiEntity || f.Type == "array":
			in.Kind = commands.InputMultiSelect
			if len(entityOpts) > maxStaticOptions {
				in.Kind, in.Options = commands.InputMultiline, nil
				in.Hint = addHint(in.Hint, "One entity reference per line, such as group:default/my-team.")
			}
		case len(entityOpts) > maxStaticOptions:
			in.Kind, in.Options, in.Source = commands.InputExternalSelect, nil, source
		default:
			in.Kind = commands.InputSelect
		}
		if len(entityOpts) == 0 {
			in.Kind = commands.InputText
			in.Hint = addHint(in.Hint, "An entity reference, such as group:default/my-team.")
		}
		return []commands.Input{in}
	case !f.known():
		in.Hint = addHint(in.Hint, fmt.Sprintf("The portal shows a %s here; type the value.", f.UIField))
	}
	switch f.Type {
	case "boolean":
		in.Kind = commands.InputCheckbox
		if len(in.Default) == 0 {
			in.Default = []string{"false"}
		}
		in.Required = false
	case "integer":
		in.Kind = commands.InputInteger
	case "number":
		in.Kind = commands.InputNumber
	case "array":
		if len(f.Options) > 0 && len(f.Options) <= maxStaticOptions {
			in.Kind, in.Options = commands.InputMultiSelect, f.Options
		} else {
			in.Kind = commands.InputMultiline
			if items, _ := f.Schema["items"].(map[string]any); items["type"] == "object" || items["properties"] != nil {
				in.Hint = addHint(in.Hint, "A YAML or JSON list.")
				in.Default = nil
				if d := f.Schema["default"]; d != nil {
					if b, err := json.Marshal(d); err == nil {
						in.Default = []string{string(b)}
					}
				}
			} else {
				in.Hint = addHint(in.Hint, "One per line.")
				in.Default = []string{strings.Join(in.Default, "\n")}
				if in.Default[0] == "" {
					in.Default = nil
				}
			}
		}
		return []commands.Input{in}
	case "object":
		in.Kind = commands.InputMultiline
		in.Hint = addHint(in.Hint, "A YAML or JSON object.")
		in.Default = nil
		return []commands.Input{in}
	}
	if len(f.Options) > 0 && f.Type != "boolean" {
		if len(f.Options) <= maxStaticOptions {
			in.Kind, in.Options = commands.InputSelect, f.Options
		} else {
			in.Hint = addHint(in.Hint, "One of: "+optionValues(f.Options, 20)+".")
		}
	} else if f.Type == "string" || f.Type == "" {
		if f.Widget == "textarea" {
			in.Kind = commands.InputMultiline
		}
		switch f.Schema["format"] {
		case "date":
			in.Placeholder = "YYYY-MM-DD"
		case "date-time":
			in.Placeholder = "YYYY-MM-DDThh:mm:ssZ"
		case "email":
			in.Placeholder = "name@example.com"
		case "uri":
			in.Placeholder = "https://…"
		}
		if f.UIField == fieldEntityName {
			in.Hint = addHint(in.Hint, "Use letters, digits, hyphens, underscores and dots, up to 63 characters.")
		}
		if f.UIField == fieldEntityTags {
			in.Kind = commands.InputMultiline
			in.Hint = addHint(in.Hint, "One tag per line.")
		}
	}
	if f.UIField == fieldEntityTags && f.Type == "" {
		in.Kind = commands.InputMultiline
	}
	return []commands.Input{in}
}

func (f *field) repoInputs(base commands.Input) []commands.Input {
	opts, _ := f.Schema["ui:options"].(map[string]any)
	hosts := stringList(opts["allowedHosts"])
	owners := stringList(opts["allowedOwners"])
	var def repoURL
	if len(base.Default) == 1 {
		def, _ = parseRepoURL(base.Default[0])
	}
	host := commands.Input{Name: f.Name + ".host", Label: base.Label + ": host", Required: base.Required, Kind: commands.InputText, Placeholder: "github.com", Hint: base.Hint}
	switch len(hosts) {
	case 0:
		if def.Host != "" {
			host.Default = []string{def.Host}
		}
	default:
		host.Kind = commands.InputSelect
		for _, h := range hosts {
			host.Options = append(host.Options, commands.Option{Label: h, Value: h})
		}
		host.Default = []string{hosts[0]}
	}
	owner := commands.Input{Name: f.Name + ".owner", Label: base.Label + ": owner", Required: base.Required, Kind: commands.InputText, Placeholder: "organisation or user"}
	if len(owners) > 0 {
		owner.Kind = commands.InputSelect
		for _, o := range owners {
			owner.Options = append(owner.Options, commands.Option{Label: o, Value: o})
		}
	}
	if def.Owner != "" {
		owner.Default = []string{def.Owner}
	}
	repo := commands.Input{Name: f.Name + ".repo", Label: base.Label + ": repository", Required: base.Required, Kind: commands.InputText, Placeholder: "new-repo-name", MaxLength: 100}
	if def.Repo != "" {
		repo.Default = []string{def.Repo}
	}
	return []commands.Input{host, owner, repo}
}

// errorInput is the input a validation error on this field is shown next to.
func (f *field) errorInput() string {
	if f.UIField == fieldRepoURL {
		return f.Name + ".repo"
	}
	return f.Name
}

// Parse converts the submitted strings for the field into the schema's
// type. present is false when the user left an optional input empty. The
// error is a message for the person, shown next to the input.
func (f *field) Parse(sub map[string][]string) (v any, present bool, msg string) {
	if f.Hidden {
		if d, ok := f.Schema["const"]; ok {
			return d, true, ""
		}
		d, ok := f.Schema["default"]
		return d, ok, ""
	}
	if f.UIField == fieldRepoURL {
		parts := map[string]string{}
		for _, k := range repoInputs {
			parts[k] = strings.TrimSpace(first(sub[f.Name+"."+k]))
		}
		if parts["host"] == "" && parts["owner"] == "" && parts["repo"] == "" {
			if raw := strings.TrimSpace(first(sub[f.Name])); raw != "" {
				return raw, true, ""
			}
			return nil, false, ""
		}
		r := repoURL{Host: parts["host"], Owner: parts["owner"], Repo: parts["repo"]}
		return r.String(), true, ""
	}
	raw, ok := sub[f.Name]
	if !ok || len(raw) == 0 || (len(raw) == 1 && strings.TrimSpace(raw[0]) == "" && f.Type != "string") {
		return nil, false, ""
	}
	switch f.Type {
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(raw[0])) {
		case "true", "on", "yes", "1":
			return true, true, ""
		case "false", "off", "no", "0", "":
			return false, true, ""
		}
		return nil, true, "Must be true or false."
	case "integer":
		n, err := strconv.ParseInt(strings.TrimSpace(raw[0]), 10, 64)
		if err != nil {
			return nil, true, "Must be a whole number."
		}
		return n, true, ""
	case "number":
		n, err := strconv.ParseFloat(strings.TrimSpace(raw[0]), 64)
		if err != nil {
			return nil, true, "Must be a number."
		}
		return n, true, ""
	case "array":
		items, _ := f.Schema["items"].(map[string]any)
		if items["type"] == "object" || items["properties"] != nil {
			var list []any
			if err := yaml.Unmarshal([]byte(raw[0]), &list); err != nil {
				return nil, true, "Must be a YAML or JSON list."
			}
			return normalize(list), true, ""
		}
		var list []any
		for _, r := range raw {
			for _, line := range strings.Split(r, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					list = append(list, itemValue(line, items))
				}
			}
		}
		if len(list) == 0 {
			return nil, false, ""
		}
		return list, true, ""
	case "object":
		var m map[string]any
		if err := yaml.Unmarshal([]byte(raw[0]), &m); err != nil {
			return nil, true, "Must be a YAML or JSON object."
		}
		return normalize(m), true, ""
	}
	s := raw[0]
	if !f.Secret {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return nil, false, ""
	}
	if f.singleLine() && strings.ContainsAny(s, lineBreaks) {
		// Asked on one line, so a break is never meant; it is how a value
		// pasted into a YAML file adds documents or keys.
		return nil, true, "Must be a single line."
	}
	if f.Type == "" && len(f.Options) > 0 {
		// An untyped enum keeps the enum's own type (enum: [1, 2]).
		for _, e := range asList(f.Schema["enum"]) {
			if toString(e) == s {
				return normalize(e), true, ""
			}
		}
	}
	return s, true, ""
}

// lineBreaks are the characters YAML readers break lines at: LF and CR
// (YAML 1.2), and NEL, LS and PS (YAML 1.1, and yaml.v3's scanner).
const lineBreaks = "\n\r\u0085\u2028\u2029"

// singleLine reports whether the field's input is one line of text: a
// string without ui:widget textarea (or the tags picker, one per line).
func (f *field) singleLine() bool {
	return (f.Type == "string" || f.Type == "") && f.Widget != "textarea" && f.UIField != fieldEntityTags
}

func itemValue(s string, items map[string]any) any {
	switch items["type"] {
	case "integer":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case "number":
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return n
		}
	case "boolean":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	}
	return s
}

// normalize turns YAML-decoded values into JSON-shaped ones (map[string]any,
// []any, float64/int64), which the schema validator and encoding expect.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[toString(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int:
		return int64(x)
	case uint64:
		return float64(x)
	}
	return v
}

func title(s map[string]any, name string) string {
	if t, _ := s["title"].(string); t != "" {
		return t
	}
	return name
}

func defaultStrings(d any) []string {
	switch x := d.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, toString(e))
		}
		return out
	case map[string]any:
		return nil
	}
	return []string{toString(d)}
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	case map[string]any:
		return []any{x}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func intOf(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	}
	return 0
}

func optionValues(opts []commands.Option, n int) string {
	var vals []string
	for i, o := range opts {
		if i == n {
			vals = append(vals, "…")
			break
		}
		vals = append(vals, o.Value)
	}
	return strings.Join(vals, ", ")
}
