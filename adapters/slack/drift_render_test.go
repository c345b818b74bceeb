package slack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/commands"
)

// driftSummary is the scheduled report's summary of the findings in
// commands/testdata/drift/findings.json, as the bot builds it.
func driftSummary(t *testing.T) commands.Reply {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "commands", "testdata", "drift", "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []drift.Finding
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	drift.Sort(fs)
	return commands.DriftSummary(commands.DriftSummaryParams{
		Title: "Ownership drift report: weekly", Findings: fs, PortalURL: "https://portal.example.com",
		HasPrevious: true, Previous: []string{"unknown-owner component:default/orphan-svc", "unknown-owner component:default/gone"},
		Since: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	})
}

// TestDriftSummaryGolden pins the channel message of a scheduled report
// (one message, no split) and what goes in its thread: the attached files.
func TestDriftSummaryGolden(t *testing.T) {
	r := driftSummary(t)
	parts := splitBlocks(r)
	if len(parts) != 1 {
		t.Fatalf("splitBlocks(summary) = %d messages, want 1", len(parts))
	}
	golden(t, "message_drift_summary", parts[0])
	type upload struct{ Name, Title, ContentType string }
	var thread []upload
	for _, f := range r.Files {
		thread = append(thread, upload{f.Name, f.Title, f.ContentType})
	}
	golden(t, "thread_drift_summary", thread)
}
