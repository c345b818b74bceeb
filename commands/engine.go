package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/portalbot/portalbot/catalog"
)

// HandlerFunc answers one request. It never posts anything itself.
type HandlerFunc func(ctx context.Context, req *Request) (Reply, error)

// Middleware wraps a handler with cross-cutting behaviour.
type Middleware func(HandlerFunc) HandlerFunc

// Arg describes one argument of a command, for help text and for
// platforms that declare options up front (Discord application commands).
type Arg struct {
	// Name is the option name, lower case: "entity", "group", "query", "template".
	Name        string
	Description string
	Required    bool
	// Complete names the Suggest source for autocompletion, "" for none.
	Complete string
}

// Command is a registered command.
type Command struct {
	Name    string
	Usage   string // "owner <entity>"
	Summary string // one line, under 100 characters (Discord's description limit)
	Args    []Arg
	// Aliases are extra first words that select the command ("who" for
	// "who owns x" is handled by the parser, not here).
	Aliases []string
	Handler HandlerFunc
	// Hidden commands are not listed in help (interaction-only actions).
	Hidden bool
}

// UserError is an error meant for the person who asked: its message is
// shown as is. Any other error is logged and replaced by a generic message.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Userf returns a UserError with a formatted message.
func Userf(format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...)}
}

// maxRequestChars bounds, in characters, a command line, the command a
// button runs and an autocomplete prefix. A question fits in a sentence
// and an entity name in 63 characters; what is longer was pasted, and
// refusing it before anything reads it keeps every handler's work small
// whatever is sent (issue 14: a 20,000-character search took 11 s).
const maxRequestChars = 1000

// Router dispatches requests to commands and actions.
type Router struct {
	logger   *slog.Logger
	commands map[string]*Command // by name and alias, lower case
	ordered  []*Command
	actions  map[string]HandlerFunc // by action id prefix (up to the first ':')
	suggest  map[string]SuggestFunc
	mw       []Middleware
	// preview answers Preview; nil (NewRouter) previews nothing.
	preview func(ctx context.Context, req *Request, link string) (Reply, bool)
	// home answers Home; nil (NewRouter) answers with the introduction.
	home HandlerFunc
}

// SuggestFunc returns up to limit options matching prefix, for type-ahead
// selects and autocomplete.
type SuggestFunc func(ctx context.Context, prefix string, limit int) ([]Option, error)

// NewRouter returns an empty router that logs unexpected errors to logger.
func NewRouter(logger *slog.Logger) *Router {
	return &Router{
		logger:   logger,
		commands: map[string]*Command{},
		actions:  map[string]HandlerFunc{},
		suggest:  map[string]SuggestFunc{},
	}
}

// Handle registers a command. A bad or duplicate registration panics.
func (r *Router) Handle(c Command) {
	if c.Name == "" || c.Handler == nil {
		panic("commands: Handle needs a name and a handler")
	}
	c2 := c
	for _, n := range append([]string{c.Name}, c.Aliases...) {
		k := strings.ToLower(n)
		if _, dup := r.commands[k]; dup {
			panic("commands: duplicate command " + k)
		}
		r.commands[k] = &c2
	}
	r.ordered = append(r.ordered, &c2)
}

// HandleAction registers the handler for actions whose ID is prefix or
// starts with prefix + ":". A duplicate registration panics.
func (r *Router) HandleAction(prefix string, h HandlerFunc) {
	if _, dup := r.actions[prefix]; dup || prefix == "" || h == nil {
		panic("commands: bad or duplicate action " + prefix)
	}
	r.actions[prefix] = h
}

// HandleSuggest registers an options provider for InputExternalSelect and
// Arg.Complete. A duplicate registration panics.
func (r *Router) HandleSuggest(source string, f SuggestFunc) {
	if _, dup := r.suggest[source]; dup || source == "" || f == nil {
		panic("commands: bad or duplicate suggest source " + source)
	}
	r.suggest[source] = f
}

// Use appends middleware, applied to every command and action.
func (r *Router) Use(mw ...Middleware) { r.mw = append(r.mw, mw...) }

// Commands returns the visible commands in registration order.
func (r *Router) Commands() []Command {
	out := make([]Command, 0, len(r.ordered))
	for _, c := range r.ordered {
		if !c.Hidden {
			out = append(out, *c)
		}
	}
	return out
}

// Suggest returns options from the named source; unknown sources, and a
// prefix longer than any command line, give none.
func (r *Router) Suggest(ctx context.Context, source, prefix string, limit int) []Option {
	f := r.suggest[source]
	if f == nil || tooLong(prefix) {
		return nil
	}
	opts, err := f(ctx, prefix, limit)
	if err != nil {
		r.logger.WarnContext(ctx, "suggest failed", "source", source, "err", err)
		return nil
	}
	return opts
}

// Lookup returns the command selected by the first word of text, and the
// rest of the text. Questions are rewritten to commands first ("who owns
// x" selects owner with rest "x").
func (r *Router) Lookup(text string) (*Command, string) {
	text = normalize(text)
	first, rest, _ := strings.Cut(text, " ")
	c := r.commands[strings.ToLower(first)]
	return c, strings.TrimSpace(rest)
}

// Serve answers req. It never returns an error: user errors become their
// message, anything else is logged once and answered generically.
func (r *Router) Serve(ctx context.Context, req *Request) (reply Reply) {
	var h HandlerFunc
	if err := checkLength(req); err != nil {
		// Still through the middleware: a flood of long messages is rate
		// limited and logged like any other.
		h = func(context.Context, *Request) (Reply, error) { return Reply{}, err }
	} else {
		if req.Action == nil {
			// Handlers see the command form of a question ("owner x" for
			// "who owns x"); the caller's Request is left as it was.
			nr := *req
			nr.Text = normalize(req.Text)
			req = &nr
		}
		h = r.route(req)
	}
	for i := len(r.mw) - 1; i >= 0; i-- {
		h = r.mw[i](h)
	}
	defer func() {
		if p := recover(); p != nil {
			r.logger.ErrorContext(ctx, "command panicked", "panic", p, "stack", string(debug.Stack()))
			reply = Reply{Text: "Something went wrong on our side; the error was logged."}
		}
	}()
	rep, err := h(ctx, req)
	if err == nil {
		return rep
	}
	var ue *UserError
	if errors.As(err, &ue) {
		return Reply{Text: ue.Msg, Buttons: rep.Buttons, Links: rep.Links}
	}
	if errors.Is(err, catalog.ErrUnavailable) {
		return Reply{Text: "The catalog is temporarily unavailable; please try again in a moment."}
	}
	r.logger.ErrorContext(ctx, "command failed", "command", commandName(req), "err", err)
	return Reply{Text: "Something went wrong on our side; the error was logged."}
}

// checkLength refuses a command line, or a button's command, longer than
// maxRequestChars.
func checkLength(req *Request) error {
	text := req.Text
	if req.Action != nil {
		text = req.Action.Value
	}
	if !tooLong(text) {
		return nil
	}
	return Userf("That message is too long for me (%d characters); I answer commands and questions of up to %d. Ask with a name or a few words, for example: search payments.",
		utf8.RuneCountInString(text), maxRequestChars)
}

// tooLong reports whether s has more than maxRequestChars characters. It
// reads at most that many.
func tooLong(s string) bool {
	if len(s) <= maxRequestChars {
		return false // fewer bytes than the limit: fewer characters too
	}
	n := 0
	for range s {
		if n++; n > maxRequestChars {
			return true
		}
	}
	return false
}

func commandName(req *Request) string {
	if req.Action != nil {
		return "action:" + req.Action.ID
	}
	first, _, _ := strings.Cut(strings.TrimSpace(req.Text), " ")
	return strings.ToLower(first)
}

func (r *Router) route(req *Request) HandlerFunc {
	if req.Action != nil {
		id := req.Action.ID
		prefix, _, _ := strings.Cut(id, ":")
		if h := r.actions[id]; h != nil {
			return h
		}
		if h := r.actions[prefix]; h != nil {
			return h
		}
		return func(context.Context, *Request) (Reply, error) {
			return Reply{}, Userf("That button is no longer supported; run the command again.")
		}
	}
	c, _ := r.Lookup(req.Text)
	if c != nil {
		return c.Handler
	}
	return func(context.Context, *Request) (Reply, error) {
		return Reply{}, Userf("I don't know %q. %s", firstWord(req.Text), r.helpHint())
	}
}

func firstWord(s string) string {
	f, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	if len(f) > 40 {
		f = f[:40] + "…"
	}
	return f
}

func (r *Router) helpHint() string {
	names := make([]string, 0, len(r.ordered))
	for _, c := range r.ordered {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	sort.Strings(names)
	return "Try one of: " + strings.Join(names, ", ") + " (or help)."
}
