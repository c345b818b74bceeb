package scaffolder

import (
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/catalog"
)

// template is a Template entity read for launching: its form steps, its
// action steps and its output.
type template struct {
	Entity *catalog.Entity
	Ref    catalog.Ref
	Title  string
	// Params holds one JSON Schema object per form step, never nil.
	Params []parameterStep
	Steps  []actionStep
	Output map[string]any
}

// parameterStep is one step of spec.parameters: a JSON Schema object plus
// Backstage's step title and when condition.
type parameterStep struct {
	Title       string
	Description string
	// When is a ${{ }} condition; the step is skipped when it is false.
	When   any
	Schema map[string]any
}

// actionStep is one entry of spec.steps.
type actionStep struct {
	ID     string
	Name   string
	Action string
	Input  map[string]any
	// If is the step's condition, as written (a string or a bool); nil
	// means always.
	If any
}

// fromEntity reads a Template entity. It fails only when the entity is not
// a template or spec.parameters is neither an object nor a list of objects;
// odd schemas are handled later, field by field.
func fromEntity(e *catalog.Entity) (*template, error) {
	if !strings.EqualFold(e.Kind, catalog.KindTemplate) {
		return nil, fmt.Errorf("template %s: not a Template", e.Ref())
	}
	t := &template{Entity: e, Ref: e.Ref(), Title: e.Metadata.Title}
	if t.Title == "" {
		t.Title = e.Metadata.Name
	}
	switch p := e.Spec["parameters"].(type) {
	case nil:
	case map[string]any:
		t.Params = append(t.Params, paramStep(p))
	case []any:
		for i, s := range p {
			m, ok := s.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("template %s: spec.parameters[%d]: want an object", t.Ref, i)
			}
			t.Params = append(t.Params, paramStep(m))
		}
	default:
		return nil, fmt.Errorf("template %s: spec.parameters: want an object or a list", t.Ref)
	}
	steps, _ := e.Spec["steps"].([]any)
	for i, s := range steps {
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("template %s: spec.steps[%d]: want an object", t.Ref, i)
		}
		st := actionStep{If: m["if"]}
		st.ID, _ = m["id"].(string)
		st.Name, _ = m["name"].(string)
		st.Action, _ = m["action"].(string)
		st.Input, _ = m["input"].(map[string]any)
		if st.ID == "" {
			st.ID = fmt.Sprintf("step-%d", i+1)
		}
		if st.Name == "" {
			st.Name = st.ID
		}
		t.Steps = append(t.Steps, st)
	}
	t.Output, _ = e.Spec["output"].(map[string]any)
	return t, nil
}

func paramStep(m map[string]any) parameterStep {
	s := parameterStep{Schema: m, When: m["when"]}
	s.Title, _ = m["title"].(string)
	s.Description, _ = m["description"].(string)
	return s
}

// active reports whether form step i applies given the values so far: a
// step whose when condition evaluates to false is skipped. A condition that
// cannot be evaluated keeps the step, so its validation still applies.
func (t *template) active(i int, values map[string]any) bool {
	w := t.Params[i].When
	switch c := w.(type) {
	case nil:
		return true
	case bool:
		return c
	case string:
		v, err := renderString(c, exprScope{"parameters": values})
		if err != nil {
			return true
		}
		return truthy(v)
	}
	return true
}

// nextStep returns the index of the first active form step after i, or -1.
func (t *template) nextStep(i int, values map[string]any) int {
	for j := i + 1; j < len(t.Params); j++ {
		if t.active(j, values) {
			return j
		}
	}
	return -1
}
