package commands_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/commands"
)

// hostileInputs are pasted or generated texts far longer than any question:
// one long token of random letters, many short tokens, and non-ASCII text
// of the same shapes, at 20,000 and 100,000 characters.
func hostileInputs() map[string]string {
	rng := rand.New(rand.NewPCG(14, 14))
	letters := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	words := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(letters(1 + rng.IntN(8)))
			b.WriteByte(' ')
		}
		return b.String()[:n]
	}
	in := map[string]string{}
	for _, n := range []int{20000, 100000} {
		sz := map[int]string{20000: "20k", 100000: "100k"}[n]
		in["token "+sz] = letters(n)
		in["words "+sz] = words(n)
		in["unicode token "+sz] = strings.Repeat("é日", n/2)
		in["unicode words "+sz] = strings.Repeat("日本 ", n/3)
		in["name-like "+sz] = strings.Repeat("payments-api-", n/13)
	}
	return in
}

// TestHostileInput sends every command, question form, button and
// autocomplete a very long input: each must answer within a generous
// deadline (the old search took 11 s on 20,000 characters and minutes on
// 100,000) and say that the input is too long.
func TestHostileInput(t *testing.T) {
	for dialect, open := range sqlstoretest.Stores() {
		t.Run(dialect, func(t *testing.T) {
			st := open(t)
			loadFixtures(t, st)
			testHostileInput(t, newRouter(t, st))
		})
	}
}

func testHostileInput(t *testing.T, r *commands.Router) {
	ctx := context.Background()
	ask(r, "owner payments-api") // build the index outside the deadline
	const deadline = 2 * time.Second
	within := func(t *testing.T, what string, f func() string) string {
		t.Helper()
		done := make(chan string, 1)
		go func() { done <- f() }()
		select {
		case got := <-done:
			return got
		case <-time.After(deadline):
			t.Fatalf("%s took more than %v", what, deadline)
			return ""
		}
	}
	prefixes := []string{"search ", "search for ", "find ", "owner ", "who owns ", "docs ", "team ", "oncall ", "deps ",
		"help ", "templates ", "create ", "drift ", "", "owner payments-api "}
	for name, in := range hostileInputs() {
		t.Run(name, func(t *testing.T) {
			for _, p := range prefixes {
				text := p + in
				rep := within(t, "Serve("+p+"…)", func() string { return flat(ask(r, text)) })
				if !strings.Contains(rep, "too long") {
					t.Errorf("Serve(%q…) = %.300s, want a reply saying the input is too long", p, rep)
				}
				rep = within(t, "Serve(button "+p+"…)", func() string {
					return flat(r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, UserID: "tester",
						Action: &commands.Action{ID: "run", Value: text}}))
				})
				if !strings.Contains(rep, "too long") {
					t.Errorf("Serve(button %q…) = %.300s, want a reply saying the input is too long", p, rep)
				}
			}
			for _, src := range []string{"entity", "group"} {
				// Any options are fine (none, as it happens); only the time matters.
				within(t, "Suggest("+src+")", func() string { return fmt.Sprint(r.Suggest(ctx, src, in, 25)) })
			}
		})
	}
	// Just under the limit, the commands read the text and answer it.
	for _, in := range []string{strings.Repeat("q", 980), strings.Repeat("é日", 490), strings.Repeat("payments-api-", 75)} {
		for _, p := range prefixes {
			rep := within(t, "Serve("+p+"…)", func() string { return flat(ask(r, p+in)) })
			if strings.Contains(rep, "too long") {
				t.Errorf("Serve(%q + %d characters) = %.300s, want an answer", p, len([]rune(in)), rep)
			}
		}
	}
}
