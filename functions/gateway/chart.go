package gateway

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The chart's geometry, in SVG user units (the SVG scales to its box).
const (
	chartWidth  = 720
	chartHeight = 320
	plotLeft    = 76
	plotRight   = 24
	plotTop     = 16
	plotBottom  = 60
	// maxChartPoints bounds a line: longer series keep every k-th sample
	// (a day-long export at one sample per 5 s would draw 17,000 points).
	maxChartPoints = 1000
	// markerPoints: lines with at most this many points get a dot per sample.
	markerPoints = 60
	megabyte     = 1e6
)

// Colours (Okabe–Ito, distinguishable with colour-blindness) and dash
// patterns, so lines differ without colour too.
var (
	chartColors = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"}
	chartDashes = []string{"none", "8 4", "2 3", "10 3 2 3"}
)

// sample is one point of a line: seconds since the line's origin, and a
// rate in bytes per second. At is the absolute time (zero when not shown).
type sample struct {
	T     float64
	Rate  float64
	Bytes int64
	At    time.Time
}

// line is one named series before layout.
type line struct {
	Name    string
	Samples []sample
}

// chart is what the chart template draws: an inline SVG with axes, one
// polyline per series, and the same numbers as a table.
type chart struct {
	ID, Title, Desc string
	Width, Height   int
	X0, Y0, X1, Y1  float64 // the plot area
	// Where the tick labels and the axis titles go.
	YLabelX, XLabelY, XTitleX, XTitleY, YTitleX, YTitleY float64
	XTitle                                               string
	XTicks, YTicks                                       []tick
	Series                                               []series
}

type tick struct {
	Pos   float64
	Label string
}

type series struct {
	Name, Color, Dash string
	Points            string // "x,y x,y ..." for <polyline points>
	Dots              []dot  // markers, for short series
	Rows              []chartRow
	Peak              string // "12.5 MB/s"
	N                 int
}

type dot struct{ X, Y float64 }

type chartRow struct {
	Elapsed, At, Bytes, Rate string
}

// newChart lays lines out on shared axes: x in seconds from 0 to the
// longest line, y in MB/s from 0 to a round number above the peak.
func newChart(id, title string, lines []line) *chart {
	c := &chart{ID: id, Title: title, Width: chartWidth, Height: chartHeight,
		X0: plotLeft, Y0: plotTop, X1: chartWidth - plotRight, Y1: chartHeight - plotBottom}
	c.YLabelX, c.XLabelY = c.X0-8, c.Y1+20
	c.XTitleX, c.XTitleY = (c.X0+c.X1)/2, c.Y1+48
	c.YTitleX, c.YTitleY = 18, (c.Y0+c.Y1)/2
	c.XTitle = "time since the run started"
	var maxT, maxR float64
	for i := range lines {
		lines[i].Samples = thin(lines[i].Samples, maxChartPoints)
		for _, s := range lines[i].Samples {
			maxT, maxR = math.Max(maxT, s.T), math.Max(maxR, s.Rate)
		}
	}
	xStep := timeStep(maxT)
	xMax := math.Max(xStep, math.Ceil(maxT/xStep)*xStep)
	yStep := niceStep(maxR / megabyte / 4)
	yMax := math.Max(yStep, math.Ceil(maxR/megabyte/yStep)*yStep)
	x := func(t float64) float64 { return c.X0 + t/xMax*(c.X1-c.X0) }
	y := func(r float64) float64 { return c.Y1 - r/megabyte/yMax*(c.Y1-c.Y0) }
	for v := 0.0; v <= xMax+xStep/2; v += xStep {
		c.XTicks = append(c.XTicks, tick{round1(x(v)), elapsedLabel(v)})
	}
	for v := 0.0; v <= yMax+yStep/2; v += yStep {
		c.YTicks = append(c.YTicks, tick{round1(y(v * megabyte)), tickLabel(v)})
	}
	for i, l := range lines {
		c.Series = append(c.Series, layout(l, i, x, y))
	}
	c.Desc = describe(lines, maxT)
	return c
}

func layout(l line, i int, x, y func(float64) float64) series {
	s := series{Name: l.Name, Color: chartColors[i%len(chartColors)],
		Dash: chartDashes[(i/len(chartColors)+i)%len(chartDashes)], N: len(l.Samples)}
	pts := make([]string, len(l.Samples))
	var peak float64
	for j, p := range l.Samples {
		px, py := round1(x(p.T)), round1(y(p.Rate))
		pts[j] = fmt.Sprintf("%g,%g", px, py)
		if len(l.Samples) <= markerPoints {
			s.Dots = append(s.Dots, dot{px, py})
		}
		peak = math.Max(peak, p.Rate)
		row := chartRow{Elapsed: elapsedLabel(p.T), Rate: mbLabel(p.Rate/megabyte) + " MB/s", At: "—", Bytes: "—"}
		if !p.At.IsZero() {
			row.At = humanTime(p.At)
		}
		if p.Bytes > 0 {
			row.Bytes = HumanBytes(p.Bytes)
		}
		s.Rows = append(s.Rows, row)
	}
	s.Points = strings.Join(pts, " ")
	s.Peak = mbLabel(peak/megabyte) + " MB/s"
	return s
}

// describe is the chart's text alternative in one sentence per line.
func describe(lines []line, maxT float64) string {
	parts := []string{fmt.Sprintf("Transfer rate in MB/s (1 MB = 1,000,000 bytes) over %s.", elapsedLabel(maxT))}
	for _, l := range lines {
		var peak, sum float64
		for _, s := range l.Samples {
			peak, sum = math.Max(peak, s.Rate), sum+s.Rate
		}
		mean := 0.0
		if n := len(l.Samples); n > 0 {
			mean = sum / float64(n)
		}
		parts = append(parts, fmt.Sprintf("%s: %d samples, peak %s MB/s, mean %s MB/s.",
			l.Name, len(l.Samples), mbLabel(peak/megabyte), mbLabel(mean/megabyte)))
	}
	return strings.Join(parts, " ")
}

// thin keeps every k-th sample (and the last) of a series longer than max.
func thin(s []sample, max int) []sample {
	if len(s) <= max {
		return s
	}
	k := (len(s) + max - 1) / max
	var out []sample
	for i := 0; i < len(s); i += k {
		out = append(out, s[i])
	}
	if last := s[len(s)-1]; out[len(out)-1] != last {
		out = append(out, last)
	}
	return out
}

// niceStep is the smallest of 1, 2, 5 × 10^k at least v.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// timeStep is a round time step giving at most about six ticks over span seconds.
func timeStep(span float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200} {
		if span/s <= 6 {
			return s
		}
	}
	return 86400 * niceStep(span/86400/6)
}

// elapsedLabel renders seconds as "45s", "2m", "1m30s", "1h5m".
func elapsedLabel(sec float64) string {
	d := time.Duration(math.Round(sec)) * time.Second
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0 && s > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", s)
}

// mbLabel renders a rate in MB/s with three significant digits.
func mbLabel(mb float64) string {
	switch {
	case mb >= 100 || mb == 0:
		return fmt.Sprintf("%.0f", mb)
	case mb >= 10:
		return fmt.Sprintf("%.1f", mb)
	case mb >= 1:
		return fmt.Sprintf("%.2f", mb)
	case mb >= 0.001:
		return fmt.Sprintf("%.3f", mb)
	}
	return "<0.001"
}

// tickLabel renders a round axis value as is ("0.25", "5", "20").
func tickLabel(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
