package bot

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/portalbot/portalbot/catalog"
)

func runExport(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "export", "export [--db URL] [--kind K] [--format json|yaml]",
		"Prints every stored entity in Backstage's API shape (apiVersion, kind, metadata with\n"+
			"namespace, spec, relations including those other entities point at it), sorted by\n"+
			"entity ref, so two exports of the same catalog are byte-for-byte equal.")
	db := fs.String("db", "", "database `URL` (env PORTALBOT_DB; default sqlite:portalbot.db)")
	kind := fs.String("kind", "", "only entities of this `kind` (case-insensitive)")
	format := fs.String("format", "json", "output `format`: json (one array) or yaml (a multi-document stream)")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	if *format != "json" && *format != "yaml" {
		fmt.Fprintf(env.Stderr, "portalbot export: --format: want json or yaml, got %q\n", *format)
		return ExitUsage
	}
	st, err := openStore(ctx, env, *db)
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot export: %v\n", err)
		return ExitFail
	}
	defer st.Close()
	ents, err := st.Entities(ctx, catalog.Query{Kind: *kind, WithDefinitions: true})
	if err != nil {
		fmt.Fprintf(env.Stderr, "portalbot export: %v\n", err)
		return ExitFail
	}
	w := bufio.NewWriter(env.Stdout)
	if err := writeExport(w, ents, *format); err != nil {
		fmt.Fprintf(env.Stderr, "portalbot export: %v\n", err)
		return ExitFail
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(env.Stderr, "portalbot export: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

// writeExport writes ents in Backstage's API shape. Relations are
// de-duplicated and sorted by type then target; entities by canonical ref.
func writeExport(w io.Writer, ents []*catalog.Entity, format string) error {
	sort.Slice(ents, func(i, j int) bool { return ents[i].Ref().String() < ents[j].Ref().String() })
	for _, e := range ents {
		if e.Metadata.Namespace == "" {
			e.Metadata.Namespace = catalog.DefaultNamespace
		}
		e.Relations = normalizeRelations(e.Relations)
	}
	out := make([]apiEntity, len(ents))
	for i, e := range ents {
		out[i] = apiEntity{APIVersion: e.APIVersion, Kind: e.Kind, Metadata: e.Metadata, Spec: e.Spec, Relations: e.Relations}
		if out[i].Relations == nil {
			out[i].Relations = []catalog.Relation{}
		}
	}
	switch format {
	case "yaml":
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		for _, e := range out {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return enc.Close()
	default:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
}

// apiEntity is an entity as Backstage's catalog API returns it: relations
// always present, [] when there are none (a Location's, say).
type apiEntity struct {
	APIVersion string             `json:"apiVersion" yaml:"apiVersion"`
	Kind       string             `json:"kind" yaml:"kind"`
	Metadata   catalog.Metadata   `json:"metadata" yaml:"metadata"`
	Spec       map[string]any     `json:"spec,omitempty" yaml:"spec,omitempty"`
	Relations  []catalog.Relation `json:"relations" yaml:"relations"`
}

func normalizeRelations(rels []catalog.Relation) []catalog.Relation {
	seen := make(map[string]bool, len(rels))
	out := rels[:0:0]
	for _, r := range rels {
		if r.TargetRef == "" {
			r.TargetRef = r.Target.String()
		}
		r.TargetRef = strings.ToLower(r.TargetRef)
		k := r.Type + "\x00" + r.TargetRef
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].TargetRef < out[j].TargetRef
	})
	return out
}
