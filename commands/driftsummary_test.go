package commands_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/commands"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/drift")

// driftFixture reads testdata/drift/findings.json, the findings the
// summary goldens here and in the adapters render.
func driftFixture(t *testing.T) []drift.Finding {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "drift", "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []drift.Finding
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	drift.Sort(fs)
	return fs
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "drift", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, got)
	}
}

func TestDriftSummaryGolden(t *testing.T) {
	fs := driftFixture(t)
	rep := commands.DriftSummary(commands.DriftSummaryParams{
		Title: "Ownership drift report: weekly", Findings: fs, PortalURL: "https://portal.example.com",
		HasPrevious: true, Previous: []string{"unknown-owner component:default/orphan-svc", "unknown-owner component:default/gone"},
		Since: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	})
	if len(rep.Files) != 2 {
		t.Fatalf("DriftSummary files = %d, want Markdown and CSV", len(rep.Files))
	}
	goldenFile(t, "drift-report.md", rep.Files[0].Data)
	goldenFile(t, "drift-report.csv", rep.Files[1].Data)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "summary.json", append(b, '\n'))
}
