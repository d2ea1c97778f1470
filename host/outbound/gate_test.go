package outbound_test

import (
	"fmt"
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/outbound"
	"github.com/google/go-cmp/cmp"
)

func ruleSet(t *testing.T) *outbound.RuleSet {
	t.Helper()
	rs, err := outbound.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

const seller = "Acme Homes LLC"

// consent is a record allowing both purposes for phone.
func consent(phone string) host.ConsentRecord {
	return host.ConsentRecord{ID: "cns_1", TenantID: "ten_a", SellerName: seller, Phone: phone, Version: 1,
		Purposes: []host.CallPurpose{host.PurposeInformational, host.PurposeTelemarketing}, AIVoice: true, Written: true,
		DisclosureText: "I agree to AI calls from Acme Homes LLC", DisclosureVersion: "v3", Method: "web_form", Source: "first_party"}
}

func local(t *testing.T, zone string, y int, m time.Month, d, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

// Reference days (2026): a Wednesday, a Saturday and a Sunday that are no
// holidays, and Christmas Day (a Friday).
const (
	wed = 9
	sat = 12
	sun = 13
	xms = 25
)

func TestLocate(t *testing.T) {
	rs := ruleSet(t)
	cases := []struct {
		phone, address string
		want           outbound.Place
	}{
		{"(305) 555-0123", "", outbound.Place{Phone: "+13055550123", States: []string{"FL"}, Zones: []string{"America/New_York"}}},
		{"(305) 555-0123", "fl", outbound.Place{Phone: "+13055550123", States: []string{"FL"}, Zones: []string{"America/Chicago", "America/New_York"}}},
		{"+1 206 555 0100", "", outbound.Place{Phone: "+12065550100", States: []string{"WA"}, Zones: []string{"America/Los_Angeles"}}},
		{"+1 212 555 0123", "", outbound.Place{Phone: "+12125550123", States: []string{"NY"}, Zones: []string{"America/New_York"}}},
		// An area code and an address that disagree: both apply.
		{"+1 305 555 0123", "Texas", outbound.Place{Phone: "+13055550123", States: []string{"FL", "TX"}, Zones: []string{"America/Chicago", "America/Denver", "America/New_York"}}},
		// Toronto: no US state.
		{"+1 416 555 0100", "", outbound.Place{Phone: "+14165550100", Zones: []string{"America/Toronto"}}},
	}
	for _, c := range cases {
		got, err := outbound.Locate(rs, c.phone, c.address)
		if err != nil {
			t.Fatalf("Locate(%q): %v", c.phone, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Locate(%q, %q) (-want +got):\n%s", c.phone, c.address, diff)
		}
	}
	if _, err := outbound.Locate(rs, "12", ""); host.CodeOf(err) != host.CodeInvalid {
		t.Errorf("Locate(12) = %v, want invalid", err)
	}
}

// TestCallingWindows walks every row of COMPLIANCE.md's state table (and
// the federal and unknown-state defaults) at the minutes around each
// boundary, in the number's own time zone, on a weekday, and on the
// Saturdays, Sundays and holidays the row treats specially.
func TestCallingWindows(t *testing.T) {
	rs := ruleSet(t)
	type window struct {
		day        int // day of December 2026
		open, shut int // HH*60+MM; open == shut == 0: closed all day
		reason     string
	}
	weekday := func(open, shut int) window { return window{day: wed, open: open, shut: shut} }
	h := func(hh int) int { return hh * 60 }
	closed := func(day int, reason string) window { return window{day: day, reason: reason} }
	rows := []struct {
		name, phone, zone string
		windows           []window
	}{
		{"federal (NY)", "+12125550123", "America/New_York", []window{weekday(h(8), h(21)), {day: sun, open: h(8), shut: h(21)}, {day: xms, open: h(8), shut: h(21)}}},
		{"FL", "+13055550123", "America/New_York", []window{weekday(h(8), h(20)), {day: sun, open: h(8), shut: h(20)}}},
		{"OK", "+14055550100", "America/Chicago", []window{weekday(h(8), h(20))}},
		{"MD", "+14105550100", "America/New_York", []window{weekday(h(8), h(20))}},
		{"WA", "+12065550100", "America/Los_Angeles", []window{weekday(h(8), h(20))}},
		{"CT", "+12035550100", "America/New_York", []window{weekday(h(9), h(20))}},
		{"TX", "+15125550100", "America/Chicago", []window{weekday(h(9), h(21)), {day: sat, open: h(9), shut: h(21)}, {day: sun, open: h(12), shut: h(21)}}},
		{"UT", "+18015550100", "America/Denver", []window{weekday(h(8), h(21)), closed(sun, outbound.ReasonSundayHoliday), closed(xms, outbound.ReasonSundayHoliday)}},
		{"RI", "+14015550100", "America/New_York", []window{weekday(h(9), h(18)), {day: sat, open: h(10), shut: h(17)},
			closed(sun, outbound.ReasonSundayHoliday), closed(xms, outbound.ReasonSundayHoliday)}},
		{"PA", "+12155550100", "America/New_York", []window{weekday(h(8), h(21)), {day: sun, open: h(8), shut: h(21)}, closed(xms, outbound.ReasonSundayHoliday)}},
		{"LA", "+15045550100", "America/Chicago", []window{weekday(h(8), h(20)), closed(sun, outbound.ReasonSundayHoliday), closed(xms, outbound.ReasonSundayHoliday)}},
		{"MS", "+16015550100", "America/Chicago", []window{weekday(h(8), h(20)), closed(sun, outbound.ReasonSundayHoliday)}},
		{"MI", "+13135550100", "America/New_York", []window{weekday(h(9), h(21))}},
		{"MN", "+16125550100", "America/Chicago", []window{weekday(h(9), h(21))}},
		{"KY", "+15025550100", "America/New_York", []window{weekday(h(10), h(21))}},
		{"MA", "+16175550100", "America/New_York", []window{weekday(h(8), h(20))}},
		{"WY", "+13075550100", "America/Denver", []window{weekday(h(8), h(20))}},
		{"NV", "+17025550100", "America/Los_Angeles", []window{weekday(h(9), h(20))}},
		{"unknown state (Toronto)", "+14165550100", "America/Toronto", []window{weekday(h(10), h(18)), {day: sat, open: h(10), shut: h(17)},
			closed(sun, outbound.ReasonSundayHoliday), closed(xms, outbound.ReasonSundayHoliday)}},
	}
	for _, row := range rows {
		for _, w := range row.windows {
			type probe struct {
				minute int
				fired  bool
			}
			probes := []probe{{w.open - 1, false}, {w.open, true}, {w.shut - 1, true}, {w.shut, false}}
			if w.reason != "" {
				probes = []probe{{h(12), false}, {h(8), false}, {h(20) + 59, false}}
			}
			for _, p := range probes {
				at := local(t, row.zone, 2026, time.December, w.day, p.minute/60, p.minute%60)
				t.Run(fmt.Sprintf("%s/%s", row.name, at.Format("Mon_15:04")), func(t *testing.T) {
					v := rs.Evaluate(outbound.Input{Now: at, Purpose: host.PurposeInformational, Phone: row.phone, SellerName: seller,
						Consents: []host.ConsentRecord{consent(row.phone)}})
					if got := v.Outcome == host.DecisionFired; got != p.fired {
						t.Fatalf("fired = %v, want %v (%s: %s)", got, p.fired, v.Reason, v.Detail)
					}
					switch {
					case p.fired:
						wantShut := local(t, row.zone, 2026, time.December, w.day, w.shut/60, w.shut%60)
						if !v.Latest.Equal(wantShut) || !v.Earliest.Equal(at) {
							t.Errorf("window = %v..%v, want %v..%v", v.Earliest, v.Latest, at, wantShut)
						}
					case w.reason != "":
						if v.Reason != w.reason {
							t.Errorf("reason = %s (%s), want %s", v.Reason, v.Detail, w.reason)
						}
					default:
						if v.Reason != outbound.ReasonOutsideWindow {
							t.Errorf("reason = %s (%s), want %s", v.Reason, v.Detail, outbound.ReasonOutsideWindow)
						}
					}
				})
			}
		}
	}
}

// TestGates covers the gates other than the window: classification,
// revocation and the internal list, consent, Washington, reassigned
// numbers, DNC freshness, caps, and the stricter rule of two states.
func TestGates(t *testing.T) {
	rs := ruleSet(t)
	fl, wa, ny := "+13055550123", "+12065550100", "+12125550123"
	noon := func(zone string) time.Time { return local(t, zone, 2026, time.December, wed, 12, 0) }
	day := 24 * time.Hour
	dated := func(now time.Time, age time.Duration) *time.Time { d := now.Add(-age); return &d }
	scrub := func(now time.Time, age time.Duration) *host.DNCScrub {
		return &host.DNCScrub{Phone: fl, NationalRegistered: true, NationalListDate: dated(now, age), Reassigned: host.ReassignedNo}
	}
	revoked := consent(fl)
	revoked.Revocations = []host.Revocation{{Channel: "call", RawText: "stop"}}
	with := func(f func(*host.ConsentRecord)) []host.ConsentRecord {
		c := consent(fl)
		f(&c)
		return []host.ConsentRecord{c}
	}
	ny12 := noon("America/New_York")
	cases := []struct {
		name   string
		in     outbound.Input
		reason string // "" fired
	}{
		{"informational with consent", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}}, ""},
		{"no consent: a CRM event never implies it", outbound.Input{Purpose: host.PurposeInformational, Phone: fl}, outbound.ReasonConsentMissing},
		{"consent for another number", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(ny)}}, outbound.ReasonConsentMissing},
		{"revoked consent", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{revoked}}, outbound.ReasonConsentRevoked},
		{"internal do-not-call list", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(fl)},
			DNC: &host.DNCEntry{Phone: fl, Source: "revocation:sms"}}, outbound.ReasonDoNotCall},
		{"consent naming another seller", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: with(func(c *host.ConsentRecord) { c.SellerName = "Other Co" })}, outbound.ReasonConsentScope},
		{"consent without AI voice", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: with(func(c *host.ConsentRecord) { c.AIVoice = false })}, outbound.ReasonConsentScope},
		{"informational-only consent for telemarketing", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, Scrub: scrub(ny12, day),
			Consents: with(func(c *host.ConsentRecord) { c.Purposes = []host.CallPurpose{host.PurposeInformational} })}, outbound.ReasonConsentScope},
		{"telemarketing without written consent", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, Scrub: scrub(ny12, day),
			Consents: with(func(c *host.ConsentRecord) { c.Written = false })}, outbound.ReasonConsentScope},
		{"unclear purpose is telemarketing (needs a scrub)", outbound.Input{Purpose: "", Phone: fl, Consents: []host.ConsentRecord{consent(fl)}}, outbound.ReasonDNCMissing},
		{"telemarketing with a fresh scrub", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}, Scrub: scrub(ny12, day)}, ""},
		{"DNC list 31 days old", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}, Scrub: scrub(ny12, 31*day)}, ""},
		{"DNC list 31 days and a minute old", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}, Scrub: scrub(ny12, 31*day+time.Minute)}, outbound.ReasonDNCStale},
		{"stale state list", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, Consents: []host.ConsentRecord{consent(fl)},
			Scrub: &host.DNCScrub{NationalListDate: dated(ny12, day), StateListDate: dated(ny12, 40*day)}}, outbound.ReasonDNCStale},
		{"stale list is no matter for informational calls", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}, Scrub: scrub(ny12, 90*day)}, ""},
		{"reassigned number", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(fl)},
			Scrub: &host.DNCScrub{Reassigned: host.ReassignedYes}}, outbound.ReasonReassigned},
		{"Washington telemarketing", outbound.Input{Now: noon("America/Los_Angeles"), Purpose: host.PurposeTelemarketing, Phone: wa, Consents: []host.ConsentRecord{consent(wa)},
			Scrub: scrub(ny12, day)}, outbound.ReasonStateBan},
		{"Washington informational", outbound.Input{Now: noon("America/Los_Angeles"), Purpose: host.PurposeInformational, Phone: wa, Consents: []host.ConsentRecord{consent(wa)}}, ""},
		{"a Washington address on a Florida number", outbound.Input{Purpose: host.PurposeTelemarketing, Phone: fl, AddressState: "WA", Consents: []host.ConsentRecord{consent(fl)}, Scrub: scrub(ny12, day)}, outbound.ReasonStateBan},
		{"FL: 2 calls on the subject today", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}, FiredRecently: 2}, ""},
		{"FL: the 4th call", outbound.Input{Purpose: host.PurposeInformational, Phone: fl, Consents: []host.ConsentRecord{consent(fl)}, FiredRecently: 3}, outbound.ReasonFrequencyCap},
		{"NY has no cap", outbound.Input{Purpose: host.PurposeInformational, Phone: ny, Consents: []host.ConsentRecord{consent(ny)}, FiredRecently: 10}, ""},
		{"OK cap", outbound.Input{Now: noon("America/Chicago"), Purpose: host.PurposeInformational, Phone: "+14055550100", Consents: []host.ConsentRecord{consent("+14055550100")}, FiredRecently: 3}, outbound.ReasonFrequencyCap},
		{"MD cap", outbound.Input{Purpose: host.PurposeInformational, Phone: "+14105550100", Consents: []host.ConsentRecord{consent("+14105550100")}, FiredRecently: 3}, outbound.ReasonFrequencyCap},
		// 19:30 in New York is 18:30 in Chicago: FL's 20:00 passes in both
		// of FL's zones, but a Rhode Island address (18:00) does not.
		{"the stricter of two states wins", outbound.Input{Now: local(t, "America/New_York", 2026, time.December, wed, 19, 30), Purpose: host.PurposeInformational,
			Phone: fl, AddressState: "RI", Consents: []host.ConsentRecord{consent(fl)}}, outbound.ReasonOutsideWindow},
		// 07:30 in Chicago is 08:30 in New York: a Florida address adds
		// FL's Central zone, where it is too early.
		{"every candidate zone is checked", outbound.Input{Now: local(t, "America/Chicago", 2026, time.December, wed, 7, 30), Purpose: host.PurposeInformational,
			Phone: fl, AddressState: "Florida", Consents: []host.ConsentRecord{consent(fl)}}, outbound.ReasonOutsideWindow},
		{"no phone", outbound.Input{Purpose: host.PurposeInformational}, outbound.ReasonNoPhone},
		{"not a number", outbound.Input{Purpose: host.PurposeInformational, Phone: "call me"}, outbound.ReasonInvalidNumber},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in.Now.IsZero() {
				in.Now = ny12
			}
			if in.SellerName == "" {
				in.SellerName = seller
			}
			v := rs.Evaluate(in)
			if c.reason == "" {
				if v.Outcome != host.DecisionFired {
					t.Fatalf("blocked: %s (%s), want fired", v.Reason, v.Detail)
				}
				if v.Consent == nil || v.Consent.ID != "cns_1" || v.RuleSetVersion != "2026-11-26" {
					t.Errorf("fired without its consent or rule-set version: %+v", v)
				}
				return
			}
			if v.Outcome != host.DecisionBlocked || v.Reason != c.reason {
				t.Fatalf("outcome %s reason %s (%s), want blocked %s", v.Outcome, v.Reason, v.Detail, c.reason)
			}
			if v.Detail == "" {
				t.Errorf("a block without its reason in words")
			}
		})
	}
}

func TestParseRuleSetRefusesBadData(t *testing.T) {
	for name, doc := range map[string]string{
		"no version":    `{"dnc_max_age_days": 31, "cap": {"calls": 3, "window_hours": 24}}`,
		"bad hours":     `{"version": "x", "dnc_max_age_days": 31, "cap": {"calls": 3, "window_hours": 24}, "federal": {"hours": {"all": ["21:00", "08:00"]}}}`,
		"bad weekday":   `{"version": "x", "dnc_max_age_days": 31, "cap": {"calls": 3, "window_hours": 24}, "federal": {"hours": {"someday": ["08:00", "21:00"]}}}`,
		"bad zone":      `{"version": "x", "dnc_max_age_days": 31, "cap": {"calls": 3, "window_hours": 24}, "zones": {"FL": ["Mars/Olympus"]}}`,
		"unknown field": `{"version": "x", "dnc_max_age_days": 31, "cap": {"calls": 3, "window_hours": 24}, "stricter": true}`,
		"no cap":        `{"version": "x", "dnc_max_age_days": 31}`,
	} {
		if _, err := outbound.ParseRuleSet([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
