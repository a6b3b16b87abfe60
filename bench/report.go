package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// row is one measured figure.
type row struct {
	Scenario string  `json:"scenario"`
	Figure   string  `json:"figure"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit,omitempty"`
	// Ratio is the value divided by the ceiling, where that applies.
	Ratio *float64 `json:"ratioToCeiling,omitempty"`
	// Target is the goal the issue sets for this figure, if any, and Met
	// whether the value reaches it.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
	Note   string `json:"note,omitempty"`
	// Error is set on the row of a scenario that could not complete.
	Error string `json:"error,omitempty"`
}

// want returns r with a target and whether its value meets it.
func (r row) want(target string, met bool) row {
	r.Target, r.Met = target, &met
	return r
}

// toCeiling returns r with its value's ratio to the ceiling, when one was measured.
func (r row) toCeiling(ceiling float64) row {
	if ceiling > 0 {
		q := r.Value / ceiling
		r.Ratio = &q
	}
	return r
}

// reporter prints rows: JSON lines at once, or a table at the end.
type reporter struct {
	w      io.Writer
	asJSON bool
	rows   []row
	err    error
}

func newReporter(w io.Writer, asJSON bool) *reporter {
	return &reporter{w: w, asJSON: asJSON}
}

func (p *reporter) add(r row) {
	if p.asJSON {
		if err := json.NewEncoder(p.w).Encode(r); err != nil && p.err == nil {
			p.err = err
		}
		return
	}
	p.rows = append(p.rows, r)
}

// flush prints the table, if any, and returns the first write error.
func (p *reporter) flush() error {
	if p.asJSON || len(p.rows) == 0 {
		return p.err
	}
	tw := tabwriter.NewWriter(p.w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tvalue\tratio to ceiling\ttarget\tnote")
	for _, r := range p.rows {
		value, ratio, target, note := "—", "", r.Target, r.Note
		if r.Error == "" {
			value = formatValue(r.Value, r.Unit)
		} else {
			note = "ERROR: " + r.Error
		}
		if r.Ratio != nil {
			ratio = fmt.Sprintf("%.1f %%", 100**r.Ratio)
		}
		if r.Met != nil {
			target += map[bool]string{true: " (met)", false: " (NOT MET)"}[*r.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.Figure, value, ratio, target, oneLine(note))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return p.err
}

// formatValue prints v with about three significant digits and thousands
// separators.
func formatValue(v float64, unit string) string {
	var s string
	switch a := math.Abs(v); {
	case a >= 1000:
		s = thousands(int64(math.Round(v)))
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}

// thousands formats n with commas: 1234567 → 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
