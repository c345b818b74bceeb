package trend_test

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/drift/trend"
)

func TestPNG(t *testing.T) {
	t0 := time.Date(2026, 9, 7, 9, 0, 0, 0, time.UTC)
	var runs []trend.Run
	for w := range 12 {
		runs = append(runs, trend.Run{At: t0.AddDate(0, 0, 7*w), Counts: map[string]int{"unknown-owner": 40 - 3*w, "owner-empty-group": 10 + w%3}})
	}
	b, err := trend.PNG("Findings per rule", []string{"unknown-owner", "owner-empty-group", "owner-changed"}, runs)
	if err != nil {
		t.Fatalf("PNG: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG output does not decode: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X < 300 || sz.X > 1000 || sz.Y < 150 || sz.Y > 600 {
		t.Errorf("PNG size = %v, want a small chart", sz)
	}
	if len(b) > 200<<10 {
		t.Errorf("PNG is %d bytes, want under 200 KB", len(b))
	}
	if _, err := trend.PNG("x", []string{"unknown-owner"}, runs[:1]); err != nil {
		t.Errorf("PNG(one run) = %v, want a chart", err)
	}
	if _, err := trend.PNG("x", nil, nil); err == nil {
		t.Error("PNG(no runs) = nil error, want one")
	}
}
