package discord

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/commands"
)

// TestDriftSummaryGolden pins the Discord message of a scheduled report's
// summary with its attachments (names, types, sizes).
func TestDriftSummaryGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "commands", "testdata", "drift", "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []drift.Finding
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	drift.Sort(fs)
	r := commands.DriftSummary(commands.DriftSummaryParams{
		Title: "Ownership drift report: weekly", Findings: fs, PortalURL: "https://portal.example.com",
		HasPrevious: true, Previous: []string{"unknown-owner component:default/orphan-svc", "unknown-owner component:default/gone"},
		Since: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	})
	msgs := message(r, fixedStash())
	if len(msgs) != 1 {
		t.Fatalf("message(summary) = %d messages, want 1", len(msgs))
	}
	attach(msgs[0], r.Files)
	type attachment struct {
		Name, ContentType string
		Bytes             int
	}
	var files []attachment
	for _, f := range msgs[0].Files {
		n, _ := io.Copy(io.Discard, f.Reader)
		files = append(files, attachment{f.Name, f.ContentType, int(n)})
	}
	msgs[0].Files = nil
	got, err := json.MarshalIndent(struct {
		Message any
		Files   []attachment
	}{msgs[0], files}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "render", "drift-summary.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("drift summary differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}
