package bot

import (
	"testing"

	"github.com/portalbot/portalbot/catalog/ingest"
)

func TestProgressText(t *testing.T) {
	for _, tt := range []struct {
		n, of int
		p     ingest.Progress
		want  string
	}{
		{1, 2, ingest.Progress{Source: "acme/catalog", Phase: "fetch"}, "[1/2] acme/catalog: fetching"},
		{1, 1, ingest.Progress{Source: "a", Phase: "discover", Files: 500}, "[1/1] a: discovering 500 files"},
		{2, 3, ingest.Progress{Source: "a", Phase: "discover", Files: 500, Total: 2000}, "[2/3] a: discovering 500 of ~2000 files (25%)"},
		{1, 1, ingest.Progress{Source: "a", Phase: "apply", Files: 2000, Total: 2000}, "[1/1] a: writing 2000 files"},
		{1, 1, ingest.Progress{Source: "a", Phase: "", Files: 1000}, "[1/1] a: discovering 1000 files"},
		{1, 1, ingest.Progress{Source: "a", Phase: "verify"}, "[1/1] a: verify"},
	} {
		if got := progressText(tt.n, tt.of, tt.p); got != tt.want {
			t.Errorf("progressText(%d, %d, %+v) = %q, want %q", tt.n, tt.of, tt.p, got, tt.want)
		}
	}
}
