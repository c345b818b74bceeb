package drift

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes findings for a terminal: a headline, then each team
// with its counts and its findings, one block per finding with the file to
// fix. Findings should be sorted (Report returns them so).
func WriteText(w io.Writer, fs []Finding) error {
	teams := ByTeam(fs)
	var b strings.Builder
	if len(fs) == 0 {
		b.WriteString("No ownership drift found.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Ownership drift: %s in %s\n", plural(len(fs), "finding"), plural(len(teams), "team"))
	for _, t := range teams {
		fmt.Fprintf(&b, "\n%s (%s): %s, %s (%s)\n", Name(t.Owner, t.OwnerTitle), t.Owner, plural(len(t.Issues), "issue"), plural(len(t.Findings), "finding"), CountSummary(t.Counts))
		for _, is := range t.Issues {
			fmt.Fprintf(&b, "  [%s] %s: %s\n", is.Severity, is.Drift, is.Message)
			if is.URL != "" {
				fmt.Fprintf(&b, "      fix: %s\n", is.URL)
			}
			for _, f := range is.Findings {
				fmt.Fprintf(&b, "    - %s (%s)", Name(f.Entity, f.Title), f.Entity)
				if len(is.Findings) == 1 && f.Message != is.Message {
					fmt.Fprintf(&b, ": %s", f.Message)
				}
				b.WriteString("\n")
				if loc := f.Location(); loc != "" {
					fmt.Fprintf(&b, "        %s\n", loc)
				}
				if f.URL != "" {
					fmt.Fprintf(&b, "        %s\n", f.URL)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Location returns "source: file:line", as much of it as is known.
func (f *Finding) Location() string {
	loc := f.File
	if loc != "" && f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, f.Line)
	}
	if f.Source != "" && loc != "" {
		loc = f.Source + ": " + loc
	}
	return loc
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, what[:len(what)-1])
	}
	return fmt.Sprintf("%d %ss", n, what)
}
