package commands

// Reply describes an answer by meaning, not markup. Adapters decide how it
// looks and truncate it to their platform's limits.
type Reply struct {
	Title string
	// Text is plain text; adapters escape it for their markup. Use Links
	// and Fields for structure rather than embedding markup here.
	Text     string
	Fields   []Field
	Links    []Link
	Sections []Section
	Buttons  []Button
	Selects  []Select
	// Form asks the adapter to open a form (Slack modal, Discord modal).
	Form *Form
	// FieldErrors answers a form submission with errors by Input.Name;
	// the adapter shows them next to the fields and keeps the form open.
	FieldErrors map[string]string
	// InChannel makes the reply visible to everyone; the zero value is
	// ephemeral (only the asker sees it).
	InChannel bool
	// MoreURL links to the full answer in the portal, used when the
	// adapter has to truncate.
	MoreURL string
}

// Field is a short labelled value ("Owner: team-a").
type Field struct {
	Name  string
	Value string
	// URL, when set, makes Value a link.
	URL string
}

// Link is a titled URL.
type Link struct {
	Text string
	URL  string
}

// Section is a titled block of a longer reply (a team's findings in a
// drift report, a template in a list).
type Section struct {
	Title   string
	Text    string
	Fields  []Field
	Links   []Link
	Buttons []Button
}

// Button is a clickable element: either an action sent back as a Request
// with Action.ID = Action and Action.Value = Value, or a plain URL link.
type Button struct {
	Text   string
	Action string
	Value  string
	URL    string
	// Style is "", "primary" or "danger".
	Style string
}

// Select is a drop-down whose choice comes back as an Action.
type Select struct {
	Action      string
	Placeholder string
	Options     []Option
	Multi       bool
}

// Option is one choice of a Select or a select Input.
type Option struct {
	Label string
	Value string
	Hint  string
}

// InputKind says how a form input is rendered.
type InputKind string

// Input kinds.
const (
	InputText        InputKind = "text"
	InputMultiline   InputKind = "multiline"
	InputNumber      InputKind = "number"
	InputInteger     InputKind = "integer"
	InputCheckbox    InputKind = "checkbox"
	InputSelect      InputKind = "select"
	InputMultiSelect InputKind = "multiselect"
	// InputExternalSelect is a type-ahead select whose options come from
	// Engine.Suggest (Slack external_select, Discord autocomplete).
	InputExternalSelect InputKind = "external_select"
)

// Form is an interactive form, one step of a possibly multi-step flow.
type Form struct {
	// Action is the Action.ID the submission comes back with.
	Action      string
	Title       string
	SubmitLabel string
	// Step is 1-based; Steps is the total number of steps.
	Step, Steps int
	// State is opaque to adapters and comes back in Submission.State. It
	// must stay under 3,000 bytes (Slack private_metadata).
	State  string
	Intro  string
	Inputs []Input
}

// Input is one form field.
type Input struct {
	Name        string
	Label       string
	Hint        string
	Placeholder string
	Kind        InputKind
	Required    bool
	Default     []string
	Options     []Option
	MinLength   int
	MaxLength   int
	// Source names the options provider for InputExternalSelect, passed
	// back to Engine.Suggest.
	Source string
}
