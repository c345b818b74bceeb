package commands

// TemplateService launches software templates. (Filled in by the templates work.)
type TemplateService interface{}

func registerTemplates(r *Router, p Params) {}
