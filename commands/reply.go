package commands

// Reply describes an answer by meaning, not markup. Adapters decide how it
// looks and truncate it to their platform's limits.
type Reply struct {
	Title string `json:"title,omitempty"`
	// Text is plain text; adapters escape it for their markup. Use Links
	// and Fields for structure rather than embedding markup here.
	Text     string    `json:"text,omitempty"`
	Fields   []Field   `json:"fields,omitempty"`
	Links    []Link    `json:"links,omitempty"`
	Sections []Section `json:"sections,omitempty"`
	Buttons  []Button  `json:"buttons,omitempty"`
	Selects  []Select  `json:"selects,omitempty"`
	// Form asks the adapter to open a form (Slack modal, Discord modal).
	Form *Form `json:"form,omitempty"`
	// FieldErrors answers a form submission with errors by Input.Name;
	// the adapter shows them next to the fields and keeps the form open.
	FieldErrors map[string]string `json:"fieldErrors,omitempty"`
	// InChannel makes the reply visible to everyone; the zero value is
	// ephemeral (only the asker sees it).
	InChannel bool `json:"inChannel,omitempty"`
	// MoreURL links to the full answer in the portal, used when the
	// adapter has to truncate.
	MoreURL string `json:"moreUrl,omitempty"`
	// Files are attached to the message (Slack: uploaded into its thread;
	// Discord: attachments of its first message): the whole list behind a
	// summary, a chart. Ephemeral replies cannot carry files.
	Files []File `json:"files,omitempty"`
}

// File is an attachment of a Reply.
type File struct {
	// Name is the file name shown and downloaded ("drift-report.csv").
	Name string `json:"name"`
	// Title is a short caption; "" means Name.
	Title string `json:"title,omitempty"`
	// ContentType is the MIME type ("text/csv", "image/png").
	ContentType string `json:"contentType,omitempty"`
	Data        []byte `json:"-"`
}

// Field is a short labelled value ("Owner: team-a").
type Field struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
	// URL, when set, makes Value a link.
	URL string `json:"url,omitempty"`
}

// Link is a titled URL.
type Link struct {
	Text string `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Section is a titled block of a longer reply (a team's findings in a
// drift report, a template in a list).
type Section struct {
	Title   string   `json:"title,omitempty"`
	Text    string   `json:"text,omitempty"`
	Fields  []Field  `json:"fields,omitempty"`
	Links   []Link   `json:"links,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
}

// Button is a clickable element: either an action sent back as a Request
// with Action.ID = Action and Action.Value = Value, or a plain URL link.
type Button struct {
	Text   string `json:"text,omitempty"`
	Action string `json:"action,omitempty"`
	Value  string `json:"value,omitempty"`
	URL    string `json:"url,omitempty"`
	// Style is "", "primary" or "danger".
	Style string `json:"style,omitempty"`
}

// Select is a drop-down whose choice comes back as an Action.
type Select struct {
	Action      string   `json:"action,omitempty"`
	Placeholder string   `json:"placeholder,omitempty"`
	Options     []Option `json:"options,omitempty"`
	Multi       bool     `json:"multi,omitempty"`
}

// Option is one choice of a Select or a select Input.
type Option struct {
	Label string `json:"label,omitempty"`
	Value string `json:"value,omitempty"`
	Hint  string `json:"hint,omitempty"`
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
	Action      string `json:"action,omitempty"`
	Title       string `json:"title,omitempty"`
	SubmitLabel string `json:"submitLabel,omitempty"`
	// Step is 1-based; Steps is the total number of steps.
	Step  int `json:"step,omitempty"`
	Steps int `json:"steps,omitempty"`
	// State is opaque to adapters and comes back in Submission.State. It
	// must stay under 3,000 bytes (Slack private_metadata).
	State  string  `json:"state,omitempty"`
	Intro  string  `json:"intro,omitempty"`
	Inputs []Input `json:"inputs,omitempty"`
}

// Input is one form field.
type Input struct {
	Name        string    `json:"name,omitempty"`
	Label       string    `json:"label,omitempty"`
	Hint        string    `json:"hint,omitempty"`
	Placeholder string    `json:"placeholder,omitempty"`
	Kind        InputKind `json:"kind,omitempty"`
	Required    bool      `json:"required,omitempty"`
	Default     []string  `json:"default,omitempty"`
	Options     []Option  `json:"options,omitempty"`
	MinLength   int       `json:"minLength,omitempty"`
	MaxLength   int       `json:"maxLength,omitempty"`
	// Source names the options provider for InputExternalSelect, passed
	// back to Engine.Suggest.
	Source string `json:"source,omitempty"`
}
