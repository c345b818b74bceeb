package commands

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxDefinitionBytes bounds the definition text summarised for an answer.
// Definitions come from catalog files, hostile input; a real OpenAPI file
// rarely passes a few megabytes.
const maxDefinitionBytes = 4 << 20

// maxServers is how many server URLs an answer lists.
const maxServers = 3

// apiSummary is what an answer says about an API definition; the
// definition itself is never pasted into chat.
type apiSummary struct {
	Format  string // "OpenAPI 3.0.3", "AsyncAPI 2.6.0", "GraphQL", "gRPC"
	Title   string
	Version string
	// Count and Unit: "12 operations", "4 channels", "3 services, 9 RPCs".
	Count   int
	Unit    string
	Servers []string
	Note    string // when the definition could not be read
}

// String renders the summary as one line.
func (a apiSummary) String() string {
	var parts []string
	head := a.Format
	if a.Title != "" {
		head += " “" + a.Title + "”"
	}
	if a.Version != "" {
		head += " version " + a.Version
	}
	parts = append(parts, head)
	if a.Unit != "" {
		parts = append(parts, fmt.Sprintf("%d %s", a.Count, plural(a.Count, a.Unit)))
	}
	if a.Note != "" {
		parts = append(parts, a.Note)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return unit
	}
	for _, sfx := range []string{"s", "x", "z", "ch", "sh"} {
		if strings.HasSuffix(unit, sfx) {
			return unit + "es" // "matches", "indexes"
		}
	}
	return unit + "s"
}

// summarizeDefinition describes an API definition of the given spec.type
// (Backstage's openapi, asyncapi, graphql, grpc; anything else is named as
// given). It never fails: what cannot be read is said in Note.
func summarizeDefinition(apiType, def string) apiSummary {
	if len(def) > maxDefinitionBytes {
		return apiSummary{Format: formatName(apiType), Note: "definition too large to summarise"}
	}
	switch strings.ToLower(apiType) {
	case "openapi", "swagger":
		return summarizeOpenAPI(def)
	case "asyncapi":
		return summarizeAsyncAPI(def)
	case "graphql":
		return summarizeGraphQL(def)
	case "grpc":
		return summarizeGRPC(def)
	}
	return apiSummary{Format: formatName(apiType)}
}

func formatName(t string) string {
	switch strings.ToLower(t) {
	case "openapi", "swagger":
		return "OpenAPI"
	case "asyncapi":
		return "AsyncAPI"
	case "graphql":
		return "GraphQL"
	case "grpc":
		return "gRPC"
	case "trpc":
		return "tRPC"
	case "":
		return "API"
	}
	return t
}

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

type infoDoc struct {
	Title   string `yaml:"title"`
	Version string `yaml:"version"`
}

func summarizeOpenAPI(def string) apiSummary {
	var doc struct {
		OpenAPI  string                    `yaml:"openapi"`
		Swagger  string                    `yaml:"swagger"`
		Info     infoDoc                   `yaml:"info"`
		Paths    map[string]map[string]any `yaml:"paths"`
		Servers  []struct{ URL string }    `yaml:"servers"`
		Host     string                    `yaml:"host"`
		BasePath string                    `yaml:"basePath"`
		Schemes  []string                  `yaml:"schemes"`
	}
	a := apiSummary{Format: "OpenAPI", Unit: "operation"}
	if err := yaml.Unmarshal([]byte(def), &doc); err != nil {
		a.Unit, a.Note = "", "definition is not valid YAML or JSON"
		return a
	}
	switch {
	case doc.OpenAPI != "":
		a.Format += " " + doc.OpenAPI
	case doc.Swagger != "":
		a.Format = "Swagger " + doc.Swagger
	}
	a.Title, a.Version = doc.Info.Title, doc.Info.Version
	for _, item := range doc.Paths {
		for m := range item {
			if httpMethods[strings.ToLower(m)] {
				a.Count++
			}
		}
	}
	for _, s := range doc.Servers {
		a.addServer(s.URL)
	}
	if doc.Host != "" {
		scheme := "https"
		if len(doc.Schemes) > 0 {
			scheme = doc.Schemes[0]
		}
		a.addServer(scheme + "://" + doc.Host + doc.BasePath)
	}
	return a
}

func (a *apiSummary) addServer(u string) {
	u = strings.TrimSpace(u)
	if u != "" && len(a.Servers) < maxServers {
		a.Servers = append(a.Servers, truncate(u, 200))
	}
}

func summarizeAsyncAPI(def string) apiSummary {
	var doc struct {
		AsyncAPI   string                    `yaml:"asyncapi"`
		Info       infoDoc                   `yaml:"info"`
		Channels   map[string]any            `yaml:"channels"`
		Operations map[string]any            `yaml:"operations"`
		Servers    map[string]map[string]any `yaml:"servers"`
	}
	a := apiSummary{Format: "AsyncAPI", Unit: "channel"}
	if err := yaml.Unmarshal([]byte(def), &doc); err != nil {
		a.Unit, a.Note = "", "definition is not valid YAML or JSON"
		return a
	}
	if doc.AsyncAPI != "" {
		a.Format += " " + doc.AsyncAPI
	}
	a.Title, a.Version = doc.Info.Title, doc.Info.Version
	a.Count = len(doc.Channels)
	names := make([]string, 0, len(doc.Servers))
	for n := range doc.Servers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := doc.Servers[n]
		// AsyncAPI 2 has url; 3 splits it into host and pathname.
		u, _ := s["url"].(string)
		if u == "" {
			host, _ := s["host"].(string)
			path, _ := s["pathname"].(string)
			u = host + path
		}
		if p, _ := s["protocol"].(string); p != "" && u != "" && !strings.Contains(u, "://") {
			u = p + "://" + u
		}
		a.addServer(u)
	}
	return a
}

var (
	gqlComment  = regexp.MustCompile(`(?m)#.*$`)
	gqlBlock    = regexp.MustCompile(`"""(?s:.*?)"""|"(?:[^"\\\n]|\\.)*"`)
	gqlRootType = regexp.MustCompile(`\b(?:extend\s+)?type\s+(Query|Mutation|Subscription)\b[^{]*\{`)
	gqlField    = regexp.MustCompile(`^\s*([_A-Za-z][_0-9A-Za-z]*)\s*[(:]`)
)

// summarizeGraphQL counts the fields of the root operation types, the
// operations a client can send.
func summarizeGraphQL(def string) apiSummary {
	a := apiSummary{Format: "GraphQL", Unit: "operation"}
	src := gqlBlock.ReplaceAllString(def, `""`)
	src = gqlComment.ReplaceAllString(src, "")
	for _, loc := range gqlRootType.FindAllStringIndex(src, -1) {
		depth, start := 1, loc[1]
		end := start
		for end < len(src) && depth > 0 {
			switch src[end] {
			case '{':
				depth++
			case '}':
				depth--
			}
			end++
		}
		// Fields start a line at depth one; arguments spanning lines are
		// inside parentheses and skipped.
		paren := 0
		for _, line := range strings.Split(src[start:max(start, end-1)], "\n") {
			if paren == 0 && gqlField.MatchString(line) {
				a.Count++
			}
			paren += strings.Count(line, "(") - strings.Count(line, ")")
		}
	}
	return a
}

var (
	protoPackage = regexp.MustCompile(`(?m)^\s*package\s+([\w.]+)\s*;`)
	protoService = regexp.MustCompile(`\bservice\s+(\w+)\s*\{`)
	protoRPC     = regexp.MustCompile(`\brpc\s+\w+\s*\(`)
	protoComment = regexp.MustCompile(`//.*|/\*(?s:.*?)\*/`)
)

// summarizeGRPC names the package and services of a .proto definition and
// counts its RPCs.
func summarizeGRPC(def string) apiSummary {
	a := apiSummary{Format: "gRPC", Unit: "RPC"}
	src := protoComment.ReplaceAllString(def, "")
	if m := protoPackage.FindStringSubmatch(src); m != nil {
		a.Title = m[1]
	}
	var svcs []string
	for _, m := range protoService.FindAllStringSubmatch(src, -1) {
		svcs = append(svcs, m[1])
	}
	a.Count = len(protoRPC.FindAllStringIndex(src, -1))
	if len(svcs) > 0 {
		a.Note = fmt.Sprintf("%d services: %s", len(svcs), strings.Join(svcs[:min(len(svcs), 5)], ", "))
		if len(svcs) == 1 {
			a.Note = "service " + svcs[0]
		}
	}
	return a
}
