package schedule

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Cron is a parsed 5-field cron expression. The zero value never fires.
type Cron struct {
	expr                     string
	minute, hour, dom, month uint64 // bit i set: value i matches
	dow                      uint64 // bits 0-6, Sunday = 0
	domStar, dowStar         bool   // the field starts with "*"
	interval                 bool   // minute or hour starts with "*": follows real time
	valid                    bool
}

type field struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	minuteField = field{name: "minute", min: 0, max: 59}
	hourField   = field{name: "hour", min: 0, max: 23}
	domField    = field{name: "day-of-month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12, names: []string{
		"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField = field{name: "day-of-week", min: 0, max: 7, names: []string{
		"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
)

var shortcuts = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
	"@hourly": "0 * * * *",
}

// Parse parses a 5-field cron expression. Errors name the field and the
// offending value, e.g. "minute 61 is out of range 0-59".
func Parse(expr string) (Cron, error) {
	text := strings.TrimSpace(expr)
	if strings.HasPrefix(text, "@") {
		full, ok := shortcuts[strings.ToLower(text)]
		if !ok {
			return Cron{}, fmt.Errorf("unknown shortcut %q (want @yearly, @monthly, @weekly, @daily or @hourly)", text)
		}
		text = full
	}
	parts := strings.Fields(text)
	if len(parts) != 5 {
		return Cron{}, fmt.Errorf("expected 5 fields (minute hour day-of-month month day-of-week), got %d", len(parts))
	}
	c := Cron{expr: strings.Join(parts, " ")}
	var err error
	sets := []*uint64{&c.minute, &c.hour, &c.dom, &c.month, &c.dow}
	for i, f := range []field{minuteField, hourField, domField, monthField, dowField} {
		if *sets[i], err = f.parse(parts[i]); err != nil {
			return Cron{}, err
		}
	}
	if c.dow&(1<<7) != 0 {
		c.dow = c.dow&^(1<<7) | 1
	}
	c.domStar = strings.HasPrefix(parts[2], "*")
	c.dowStar = strings.HasPrefix(parts[4], "*")
	c.interval = strings.HasPrefix(parts[0], "*") || strings.HasPrefix(parts[1], "*")
	if err := c.checkReachable(parts[2], parts[3]); err != nil {
		return Cron{}, err
	}
	c.valid = true
	return c, nil
}

// MustParse is Parse for expressions known at compile time; it panics on error.
func MustParse(expr string) Cron {
	c, err := Parse(expr)
	if err != nil {
		panic(fmt.Sprintf("schedule.MustParse(%q): %v", expr, err))
	}
	return c
}

// String returns the expression with its fields separated by single spaces.
func (c Cron) String() string { return c.expr }

// IsZero reports whether c is the zero Cron (never parsed, never fires).
func (c Cron) IsZero() bool { return !c.valid }

// Interval reports whether c follows real time across daylight-saving changes
// (its minute or hour field starts with "*"); see the package documentation.
func (c Cron) Interval() bool { return c.interval }

// checkReachable rejects day-of-month/month combinations that never occur,
// unless the day-of-week field provides days on its own (the OR rule).
func (c Cron) checkReachable(domText, monthText string) error {
	if !c.domStar && !c.dowStar {
		return nil
	}
	maxDays := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if c.month&(1<<m) != 0 && bits.TrailingZeros64(c.dom) <= maxDays[m] {
			return nil
		}
	}
	return fmt.Errorf("day-of-month %s never occurs in month %s", domText, monthText)
}

func (f field) parse(text string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(text, ",") {
		bitsOf, err := f.parseItem(item)
		if err != nil {
			return 0, err
		}
		set |= bitsOf
	}
	return set, nil
}

func (f field) parseItem(item string) (uint64, error) {
	rng, stepText, hasStep := strings.Cut(item, "/")
	lo, hi := f.min, f.max
	if f.name == dowField.name {
		hi = 6 // "*" means every day once; 7 is an alias of 0
	}
	switch {
	case rng == "*":
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return 0, err
		}
		if hi, err = f.value(b); err != nil {
			return 0, err
		}
		if lo > hi {
			return 0, fmt.Errorf("%s range %s starts after it ends", f.name, rng)
		}
	default:
		v, err := f.value(rng)
		if err != nil {
			return 0, err
		}
		lo, hi = v, v
		if hasStep {
			hi = f.max
		}
	}
	step := 1
	if hasStep {
		var err error
		if step, err = strconv.Atoi(stepText); err != nil || step < 1 || step > f.max-f.min+1 {
			return 0, fmt.Errorf("%s step %q is not a number in 1-%d", f.name, stepText, f.max-f.min+1)
		}
	}
	var set uint64
	for v := lo; v <= hi; v += step {
		set |= 1 << v
	}
	return set, nil
}

func (f field) value(text string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(text, n) {
			return f.min + i, nil
		}
	}
	if text == "" || strings.TrimLeft(text, "0123456789") != "" {
		if f.names != nil {
			return 0, fmt.Errorf("%s %q is not a number or a name (%s-%s)", f.name, text, f.names[0], f.names[len(f.names)-1])
		}
		return 0, fmt.Errorf("%s %q is not a number", f.name, text)
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%s %s is out of range %d-%d", f.name, text, f.min, f.max)
	}
	return v, nil
}
