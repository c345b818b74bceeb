package scaffolder

import (
	"context"
	"fmt"
	"strings"

	"github.com/portalbot/portalbot/commands"
)

// templateRun is one launch of a template: the validated values and who asked.
type templateRun struct {
	Template *template
	// Values are the template's parameters, typed as the schema says.
	Values map[string]any
	// Secrets are the values of Secret fields plus who launched the run
	// (SecretUser, SecretUserEmail); they are never logged or audited.
	Secrets map[string]string
	User    user
	// Key identifies the launch in the audit table.
	Key string
}

// user is the chat user who launched a run.
type user struct {
	Platform string
	ID       string
	Name     string
	Email    string
}

// String returns "platform:id (name)", the form recorded in the audit table.
func (u user) String() string {
	s := u.Platform + ":" + u.ID
	if u.Name != "" {
		s += " (" + u.Name + ")"
	}
	return s
}

// Secret keys that carry the chat user to the template. A static
// external-access token makes the bot a service principal, so Backstage
// does not know who asked (PLATFORM.md, Scaffolder); templates read these as
// ${{ secrets.portalbotUser }} and ${{ secrets.portalbotUserEmail }}.
// Secrets are not validated against the parameters schema, so adding them
// cannot make a strict template (additionalProperties: false) reject a run.
const (
	SecretUser      = "portalbotUser"
	SecretUserEmail = "portalbotUserEmail"
)

// A Launcher starts template runs: a *Backstage or a *Runner, the only
// implementations (its method is unexported). launch returns once the run
// is accepted, not when it is done; an *invalidValuesError reports values
// the launcher refused, by field.
type Launcher interface {
	launch(ctx context.Context, run templateRun) (taskID string, err error)
}

// A preflighter is a Launcher that can tell, before a form opens, that it
// cannot run a template at all, so that nobody fills in a form for nothing.
type preflighter interface {
	// preflight returns a *setupError saying what is missing, or nil.
	preflight(t *template) error
}

// setupError says why this bot cannot launch a template as it is set up.
// Its message is written for the chat user and names the setting an admin
// would change.
type setupError struct {
	Msg string
}

func (e *setupError) Error() string { return e.Msg }

// follower reports the progress of a launched run until it ends. Both
// launchers in this package implement it. progress is called from follow's
// goroutine; follow returns when the run ends or ctx is done.
type follower interface {
	follow(ctx context.Context, taskID string, progress func(event)) (result, error)
}

// event is one progress event of a run.
type event struct {
	// Type is "log", "completion" or "cancelled", as Backstage names them.
	Type    string
	StepID  string
	Status  string // a step's new status: processing, completed, failed, skipped
	Message string
}

// result is how a run ended.
type result struct {
	// Status is "completed", "failed" or "cancelled".
	Status string
	Error  string
	Links  []outputLink
	Text   []string
}

// outputLink is one entry of a template's output.links.
type outputLink struct {
	Title     string
	URL       string
	EntityRef string
}

// invalidValuesError is returned by launch when the launcher refused the
// values; Fields holds messages by value path, "" for the run as a whole.
type invalidValuesError struct {
	Fields map[string]string
}

func (e *invalidValuesError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, k := range sortedKeysS(e.Fields) {
		if k == "" {
			parts = append(parts, e.Fields[k])
		} else {
			parts = append(parts, k+": "+e.Fields[k])
		}
	}
	return "invalid values: " + strings.Join(parts, "; ")
}

// links renders output links for chat; entity refs become portal links.
func links(portalURL string, ls []outputLink) []commands.Link {
	var out []commands.Link
	for _, l := range ls {
		u := l.URL
		if u == "" && l.EntityRef != "" {
			u = entityURL(portalURL, l.EntityRef)
		}
		if u == "" || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "file://")) {
			continue
		}
		text := l.Title
		if text == "" {
			text = u
		}
		out = append(out, commands.Link{Text: text, URL: u})
	}
	return out
}

func entityURL(portalURL, ref string) string {
	parts := strings.SplitN(ref, ":", 2)
	if len(parts) != 2 {
		return ""
	}
	ns, name, ok := strings.Cut(parts[1], "/")
	if !ok {
		ns, name = "default", parts[1]
	}
	return fmt.Sprintf("%s/catalog/%s/%s/%s", strings.TrimRight(portalURL, "/"), ns, strings.ToLower(parts[0]), name)
}
