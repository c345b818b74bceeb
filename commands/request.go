package commands

import "context"

// Platforms a request can come from.
const (
	PlatformSlack   = "slack"
	PlatformDiscord = "discord"
	PlatformConsole = "console"
)

// Request is one thing a user asked for, whatever the chat platform.
type Request struct {
	Platform  string
	UserID    string // platform user id
	UserName  string // display or login name, for audit and messages
	UserEmail string // when the adapter knows it; read it with Email
	// LookupEmail, when set and UserEmail is empty, finds the user's email
	// (Slack's users.info). Email calls it only for the handlers that map
	// the user to a User entity, so a plain lookup never waits for it.
	LookupEmail func(ctx context.Context) string
	ChannelID   string
	ThreadID    string // thread / message the reply belongs to, if any

	// Text is the command line as typed, without the "/portal" or bot
	// mention prefix: "owner payments-api", "who owns payments-api".
	Text string

	// Followup, when set, posts a further reply to the same conversation
	// after the handler has returned (template progress, slow answers). It
	// is nil where the transport cannot (one-shot console ask).
	Followup func(ctx context.Context, r Reply) error

	// Progress, when set, shows r as this request's one progress message:
	// the first call posts it, later calls replace it, so a long run takes
	// one message rather than one per step. It is nil where the transport
	// cannot edit a message; callers then use Followup.
	Progress func(ctx context.Context, r Reply) error

	// Action is set for interactions (button click, select, form
	// submission) instead of Text.
	Action *Action
}

// Action is an interaction with a component of an earlier Reply.
type Action struct {
	// ID is the Button.Action, Select.Action or Form.Action that fired.
	ID string
	// Value is the clicked button's Value or the chosen option values.
	Value  string
	Values []string
	// Form holds a submitted form's values by Input.Name; nil otherwise.
	Form *Submission
}

// Submission is a submitted Form.
type Submission struct {
	// State is the Form.State sent with the form, returned unchanged.
	State string
	// Values by Input.Name; a checkbox is "true"/"false", a multi-select
	// has several values, an empty optional input is absent.
	Values map[string][]string
	// Key identifies this submission for de-duplication (e.g. Slack view
	// id + hash); a retried submission carries the same key.
	Key string
}

// Poster posts replies outside of a request/response exchange: follow-ups
// in a thread (template progress) and scheduled reports. Adapters implement
// it; it returns the platform id of the posted message, usable as ThreadID.
type Poster interface {
	Post(ctx context.Context, channelID, threadID string, r Reply) (string, error)
}

// Email returns the user's email: UserEmail, or else what LookupEmail
// finds, remembered in UserEmail. It is "" when neither knows it. A request
// is handled by one goroutine at a time, so Email needs no lock.
func (r *Request) Email(ctx context.Context) string {
	if r.UserEmail == "" && r.LookupEmail != nil {
		r.UserEmail = r.LookupEmail(ctx)
		r.LookupEmail = nil
	}
	return r.UserEmail
}
