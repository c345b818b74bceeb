package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/bot"
	"github.com/portalbot/portalbot/commands"
)

// runWithStdin runs the CLI with stdin piped from in.
func runWithStdin(t *testing.T, in string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &bot.Env{Stdin: strings.NewReader(in), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = bot.Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// TestDemoThenAsk runs the demo with piped commands, then asks its
// database one question as text and as JSON.
func TestDemoThenAsk(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runWithStdin(t, "owner payments-api\nwho owns paymnts-api\ndocs payments-rest\nowner checkout\n2\n",
		"demo", "--dir", dir, "--portal", "https://portal.acme.example")
	if code != bot.ExitOK {
		t.Fatalf("demo exit %d, stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	for _, want := range []string{
		"portalbot demo: Acme Shop's catalog",
		"portal> owner payments-api\npayments-api is owned by Payments Team",
		"Owner:   Payments Team (group:payments) <https://portal.acme.example/catalog/default/group/payments>",
		"Slack:   #payments-team",
		`I found no entity named "paymnts-api". Did you mean payments-api?`,
		"Definition: OpenAPI 3.0.3 “Acme Payments” version 2.4.0, 5 operations", // resolved from $text: ./openapi.yaml
		`Several entities are named "checkout"`,
		"portal> 2\ngroup:checkout is a team", // pressing a button by its number
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q; got:\n%s", want, out)
		}
	}
	if strings.Contains(out, "processing errors") {
		t.Errorf("demo catalog has processing errors:\n%s", out)
	}

	db := "sqlite:" + filepath.Join(dir, "portalbot-demo.db")
	code, out, errs = runCLI(t, "ask", "--db", db, "who owns payments-api?")
	if code != bot.ExitOK || !strings.Contains(out, "payments-api is owned by Payments Team") || !strings.Contains(out, "(group:payments)") {
		t.Errorf("ask = %d, stdout:\n%s\nstderr:\n%s\nwant the owner's display name and full ref", code, out, errs)
	}
	code, out, errs = runCLI(t, "ask", "--db", db, "--json", "owner", "ledger-service")
	if code != bot.ExitOK {
		t.Fatalf("ask --json exit %d: %s", code, errs)
	}
	var rep commands.Reply
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("ask --json output is not a Reply: %v\n%s", err, out)
	}
	fields := map[string]string{}
	for _, f := range rep.Fields {
		fields[f.Name] = f.Value
	}
	if fields["Owner"] != "Payments Team (group:payments)" || fields["CODEOWNERS"] != "@acme/platform (differs from the catalog owner)" {
		t.Errorf("ask --json fields = %v, want the owner and the CODEOWNERS disagreement", fields)
	}
	if !strings.Contains(out, `"title": "ledger-service is owned by Payments Team"`) {
		t.Errorf("ask --json does not use lower-case keys:\n%s", out)
	}

	// A second demo run in the same directory finds the catalog unchanged.
	if code, _, errs := runWithStdin(t, "", "demo", "--dir", dir); code != bot.ExitOK {
		t.Errorf("second demo run exit %d: %s", code, errs)
	}
}

func TestAskUsage(t *testing.T) {
	if code, _, errs := runCLI(t, "ask"); code != bot.ExitUsage || !strings.Contains(errs, "what should I ask") {
		t.Errorf("ask without text = %d, %q; want usage", code, errs)
	}
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "empty.db")
	code, out, errs := runCLI(t, "ask", "--db", db, "owner payments-api")
	if code != bot.ExitOK || !strings.Contains(out, "nothing with a similar name") || !strings.Contains(errs, "is empty") {
		t.Errorf("ask on an empty catalog = %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestDemoPipedCreateWaits pipes a whole create into the demo: the input
// ends right after the launch, and the demo waits for the run to finish
// (it used to cancel it, "Lost track of Go service").
func TestDemoPipedCreateWaits(t *testing.T) {
	in := "create go-service\ninventory-api\ngroup:default/payments\nKeeps the stock.\nyes\n\n9090\nno\n"
	code, out, errs := runWithStdin(t, in, "demo", "--dir", t.TempDir())
	if code != bot.ExitOK {
		t.Fatalf("demo exit %d, stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	if !strings.Contains(out, "Launched Go service") || !strings.Contains(out, "Go service: completed") || strings.Contains(out, "Lost track") {
		t.Errorf("piped create: want the launch and the run completed, not lost; stdout:\n%s\nstderr:\n%s", out, errs)
	}
}
