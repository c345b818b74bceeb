// Package console is portalbot's terminal adapter: a line-oriented REPL
// over any reader and writer that sends what is typed to the command
// engine and prints the replies as plain text. It needs no chat account,
// so `portalbot demo` and tests use it.
//
// Like every adapter it knows commands' neutral model, never another
// adapter, the store (catalog/sqlstore) or bot.
package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/portalbot/portalbot/commands"
)

// maxLine bounds one input line; longer lines are cut (a paste of a whole
// file is not a command).
const maxLine = 64 << 10

// Engine is what the console needs from the command engine;
// *commands.Router satisfies it.
type Engine interface {
	Serve(ctx context.Context, req *commands.Request) commands.Reply
	Suggest(ctx context.Context, source, prefix string, limit int) []commands.Option
}

// Options configure a Console. The zero value is usable.
type Options struct {
	// Prompt is printed before each command; empty means "portal> ".
	Prompt string
	// Interactive is true when a person types at a terminal. When false
	// (piped input), each command is echoed after the prompt so the output
	// reads as a transcript.
	Interactive bool
	// UserName is the Request's user; empty means "console".
	UserName string
}

// Console is a REPL session. Use one Console per input stream; Run must
// not be called concurrently.
type Console struct {
	eng  Engine
	in   io.Reader
	opts Options

	mu  sync.Mutex // serialises writes to out (follow-ups come from other goroutines)
	out io.Writer

	lines <-chan string
	press []pressable // buttons and options of the last reply, by number - 1
}

// New returns a console reading commands from in and writing replies to out.
func New(eng Engine, in io.Reader, out io.Writer, opts Options) *Console {
	if opts.Prompt == "" {
		opts.Prompt = "portal> "
	}
	if opts.UserName == "" {
		opts.UserName = "console"
	}
	return &Console{eng: eng, in: in, out: out, opts: opts}
}

// Run reads and answers commands until the input ends, "exit" or "quit" is
// typed, or ctx is done. It returns nil at the end of input and ctx.Err()
// when cancelled.
func (c *Console) Run(ctx context.Context) error {
	c.lines = readLines(c.in)
	for {
		line, ok, err := c.prompt(ctx, c.opts.Prompt)
		if err != nil {
			return err
		}
		if !ok {
			c.print("\n")
			return nil
		}
		switch strings.ToLower(line) {
		case "":
			continue
		case "exit", "quit", "bye", ":q":
			return nil
		}
		req := c.request()
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(c.press) {
			a := c.press[n-1].action
			req.Action = &a
		} else {
			req.Text = line
		}
		if err := c.answer(ctx, req); err != nil {
			return err
		}
	}
}

// answer serves req and prints the reply, running any form it opens.
func (c *Console) answer(ctx context.Context, req *commands.Request) error {
	rep := c.eng.Serve(ctx, req)
	for rep.Form != nil {
		next, ok, err := c.fillForm(ctx, rep.Form)
		if err != nil || !ok {
			return err
		}
		rep = next
	}
	c.show(rep)
	return nil
}

func (c *Console) request() *commands.Request {
	return &commands.Request{
		Platform:  commands.PlatformConsole,
		UserID:    c.opts.UserName,
		UserName:  c.opts.UserName,
		ChannelID: "console",
		Followup: func(ctx context.Context, r commands.Reply) error {
			// A follow-up's buttons cannot be pressed by number: the
			// numbers belong to the last reply.
			text, _ := render(r, false)
			c.print("\n" + text)
			return nil
		},
	}
}

// show prints a reply and remembers its pressable buttons.
func (c *Console) show(r commands.Reply) {
	text, press := render(r, true)
	c.press = press
	c.print(text + "\n")
}

func (c *Console) print(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A console that cannot write has nobody to tell; the next read ends it.
	_, _ = io.WriteString(c.out, s)
}

// prompt prints p and reads one line. ok is false at the end of input.
func (c *Console) prompt(ctx context.Context, p string) (line string, ok bool, err error) {
	c.print(p)
	select {
	case <-ctx.Done():
		return "", false, ctx.Err()
	case l, open := <-c.lines:
		if !open {
			return "", false, nil
		}
		l = strings.TrimSpace(l)
		if !c.opts.Interactive {
			c.print(l + "\n")
		}
		return l, true, nil
	}
}

// readLines delivers in's lines on a channel closed at the end of input.
// The goroutine ends when in does; a terminal's stdin ends with the process.
func readLines(in io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 4096), maxLine)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

func newKey() string {
	var b [8]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ panics instead).
	_, _ = rand.Read(b[:])
	return "console-" + hex.EncodeToString(b[:])
}
