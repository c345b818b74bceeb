// Package trend draws drift findings over time as a small PNG chart, for
// the weekly report: people would rather look than read.
//
// It draws only: it knows no store, no catalog query and no chat platform.
package trend

import (
	"bytes"
	"fmt"
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Run is one report: when it ran and its findings per rule.
type Run struct {
	At     time.Time
	Counts map[string]int
}

// Size of the chart: small enough for a chat preview.
const (
	width  = 16 * vg.Centimeter
	height = 8 * vg.Centimeter
)

// colorOf gives the i-th rule a color that stays the same across reports
// (rules in the order given to PNG).
func colorOf(i int) color.RGBA {
	palette := [...]color.RGBA{
		{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	}
	return palette[i%len(palette)]
}

// PNG draws one line per rule (in rules' order; rules no run counts are
// left out) of the findings of runs, oldest first. It fails when there is
// nothing to draw.
func PNG(title string, rules []string, runs []Run) ([]byte, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("trend: no runs")
	}
	runs = slices.Clone(runs)
	slices.SortFunc(runs, func(a, b Run) int { return a.At.Compare(b.At) })
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "findings"
	p.Y.Min = 0
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
	p.Legend.Top = true
	p.Legend.Left = true
	drawn := 0
	for i, rule := range rules {
		pts := make(plotter.XYs, 0, len(runs))
		any := false
		for _, r := range runs {
			n := r.Counts[rule]
			any = any || n > 0
			pts = append(pts, plotter.XY{X: float64(r.At.Unix()), Y: float64(n)})
		}
		if !any {
			continue
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("trend: %s: %w", rule, err)
		}
		c := colorOf(i)
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(rule, line)
		drawn++
	}
	if drawn == 0 {
		p.Add(plotter.NewGrid())
	}
	if len(runs) == 1 {
		// One point makes an empty axis range: widen it to a week.
		t := float64(runs[0].At.Unix())
		p.X.Min, p.X.Max = t-3.5*86400, t+3.5*86400
	}
	w, err := p.WriterTo(width, height, "png")
	if err != nil {
		return nil, fmt.Errorf("trend: %w", err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("trend: %w", err)
	}
	return b.Bytes(), nil
}
