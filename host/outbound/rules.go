package outbound

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

//go:embed rulesets/*.json
var rulesets embed.FS

// DefaultRuleSetFile is the embedded rule set used when no other is given.
const DefaultRuleSetFile = "rulesets/2026-11-26.json"

// Hours are the permitted calling hours per weekday, local time: a day
// without an entry permits no calls.
type Hours [7]*window

// window is [Start, End) in minutes after local midnight.
type window struct{ Start, End int }

// StateRule is one jurisdiction's rules.
type StateRule struct {
	Hours      Hours
	NoSundays  bool
	NoHolidays bool
	// Cap: the frequency cap applies to numbers of this state.
	Cap bool
	// PEWC: telemarketing needs prior express written consent (the gate
	// requires it for all telemarketing anyway; recorded for the record).
	PEWC bool
	// BlockTelemarketing: no telemarketing at all (Washington's ban on
	// automatic dialing-announcing devices).
	BlockTelemarketing bool
	// BlockInEmergency: no calls while the state is listed in
	// RuleSet.Emergencies.
	BlockInEmergency bool
}

// RuleSet is the versioned law the gates apply.
type RuleSet struct {
	Version     string
	DNCMaxAge   time.Duration
	CapCalls    int
	CapWindow   time.Duration
	Federal     StateRule
	Unknown     StateRule
	States      map[string]StateRule
	Emergencies []string
	// Holidays per state ("*" for every state), as local dates.
	Holidays map[string][]string
	// Zones are the IANA time zones a state spans.
	Zones map[string][]string
}

type ruleJSON struct {
	Hours              map[string][2]string `json:"hours"`
	NoSundays          bool                 `json:"no_sundays"`
	NoHolidays         bool                 `json:"no_holidays"`
	Cap                bool                 `json:"cap"`
	PEWC               bool                 `json:"pewc"`
	BlockTelemarketing bool                 `json:"block_telemarketing"`
	BlockInEmergency   bool                 `json:"block_in_emergency"`
	Note               string               `json:"note"`
}

type ruleSetJSON struct {
	Version       string `json:"version"`
	Source        string `json:"source"`
	DNCMaxAgeDays int    `json:"dnc_max_age_days"`
	Cap           struct {
		Calls       int `json:"calls"`
		WindowHours int `json:"window_hours"`
	} `json:"cap"`
	Federal     ruleJSON            `json:"federal"`
	Unknown     ruleJSON            `json:"unknown"`
	States      map[string]ruleJSON `json:"states"`
	Emergencies []string            `json:"emergencies"`
	Holidays    map[string][]string `json:"holidays"`
	Zones       map[string][]string `json:"zones"`
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// DefaultRuleSet returns the embedded rule set.
func DefaultRuleSet() (*RuleSet, error) {
	b, err := rulesets.ReadFile(DefaultRuleSetFile)
	if err != nil {
		return nil, err
	}
	return ParseRuleSet(b)
}

// LoadRuleSet reads a rule set from a file (counsel's own version).
func LoadRuleSet(path string) (*RuleSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("outbound: rule set: %w", err)
	}
	return ParseRuleSet(b)
}

// ParseRuleSet decodes and checks a rule set: every hour a valid HH:MM
// window, every zone a loadable IANA zone, every holiday a date.
func ParseRuleSet(b []byte) (*RuleSet, error) {
	var j ruleSetJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("outbound: rule set: %w", err)
	}
	if j.Version == "" {
		return nil, fmt.Errorf("outbound: rule set: no version")
	}
	if j.DNCMaxAgeDays <= 0 || j.Cap.Calls <= 0 || j.Cap.WindowHours <= 0 {
		return nil, fmt.Errorf("outbound: rule set %s: dnc_max_age_days, cap.calls and cap.window_hours must be positive", j.Version)
	}
	rs := &RuleSet{Version: j.Version, DNCMaxAge: time.Duration(j.DNCMaxAgeDays) * 24 * time.Hour,
		CapCalls: j.Cap.Calls, CapWindow: time.Duration(j.Cap.WindowHours) * time.Hour,
		States: map[string]StateRule{}, Emergencies: j.Emergencies, Holidays: j.Holidays, Zones: j.Zones}
	var err error
	if rs.Federal, err = j.Federal.rule("federal"); err != nil {
		return nil, err
	}
	if rs.Unknown, err = j.Unknown.rule("unknown"); err != nil {
		return nil, err
	}
	for st, r := range j.States {
		if rs.States[st], err = r.rule(st); err != nil {
			return nil, err
		}
	}
	for st, zs := range j.Zones {
		for _, z := range zs {
			if _, err := time.LoadLocation(z); err != nil {
				return nil, fmt.Errorf("outbound: rule set %s: zone %q of %s: %w", j.Version, z, st, err)
			}
		}
	}
	for st, ds := range j.Holidays {
		for _, d := range ds {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return nil, fmt.Errorf("outbound: rule set %s: holiday %q of %s is not a date", j.Version, d, st)
			}
		}
	}
	return rs, nil
}

func (r ruleJSON) rule(name string) (StateRule, error) {
	out := StateRule{NoSundays: r.NoSundays, NoHolidays: r.NoHolidays, Cap: r.Cap, PEWC: r.PEWC,
		BlockTelemarketing: r.BlockTelemarketing, BlockInEmergency: r.BlockInEmergency}
	for day, hm := range r.Hours {
		w, err := parseWindow(hm)
		if err != nil {
			return out, fmt.Errorf("outbound: rule set: %s %s: %w", name, day, err)
		}
		if day == "all" {
			for i := range out.Hours {
				out.Hours[i] = &w
			}
			continue
		}
		wd, ok := weekdays[day]
		if !ok {
			return out, fmt.Errorf("outbound: rule set: %s: %q is not a weekday (sun..sat, all)", name, day)
		}
		out.Hours[wd] = &w
	}
	return out, nil
}

func parseWindow(hm [2]string) (window, error) {
	var w window
	for i, s := range hm {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return w, fmt.Errorf("%q is not HH:MM", s)
		}
		m := t.Hour()*60 + t.Minute()
		if i == 0 {
			w.Start = m
		} else {
			w.End = m
		}
	}
	if w.End <= w.Start {
		return w, fmt.Errorf("window %s-%s ends before it starts", hm[0], hm[1])
	}
	return w, nil
}

// holiday reports whether the local date is a holiday of state.
func (rs *RuleSet) holiday(state string, local time.Time) bool {
	d := local.Format(time.DateOnly)
	return slices.Contains(rs.Holidays["*"], d) || slices.Contains(rs.Holidays[state], d)
}
