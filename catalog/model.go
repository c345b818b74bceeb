package catalog

import "strings"

// AlphaModelOnly returns why a Backstage in its default configuration
// rejects e, which it accepts only with the alpha catalog model
// (catalogModelExtensionPoint with aiResourceEntityModel and
// mcpServerApiEntityModel from @backstage/catalog-model/alpha), and ""
// when a default Backstage accepts e. Without that model no processor
// knows the AiResource kind, and the API schema requires spec.definition,
// which an mcp-server API may replace with spec.remotes. The message has
// the form of a validation problem ("path: reason").
func AlphaModelOnly(e *Entity) string {
	switch {
	case strings.EqualFold(e.Kind, KindAiResource):
		return "kind: AiResource is defined only by Backstage's alpha catalog model"
	case strings.EqualFold(e.Kind, KindAPI):
		if _, ok := e.Spec["definition"]; !ok {
			return "spec.definition: required (spec.remotes alone needs Backstage's alpha catalog model)"
		}
	}
	return ""
}
