package outbound

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"crmhost.dev/host"
)

// Block reasons: stable codes a decision record carries.
const (
	ReasonDisabled          = "outbound_disabled"
	ReasonRuleDisabled      = "rule_disabled"
	ReasonNoPhone           = "no_phone"
	ReasonInvalidNumber     = "invalid_number"
	ReasonDoNotCall         = "do_not_call"
	ReasonConsentMissing    = "consent_missing"
	ReasonConsentRevoked    = "consent_revoked"
	ReasonConsentScope      = "consent_insufficient"
	ReasonStateBan          = "state_telemarketing_ban"
	ReasonReassigned        = "reassigned_number"
	ReasonDNCMissing        = "dnc_scrub_missing"
	ReasonDNCStale          = "dnc_list_stale"
	ReasonEmergency         = "declared_emergency"
	ReasonSundayHoliday     = "sunday_or_holiday"
	ReasonOutsideWindow     = "outside_calling_window"
	ReasonFrequencyCap      = "frequency_cap"
	ReasonNoSeller          = "seller_unknown"
	ReasonRecordUnavailable = "record_unavailable"
)

// Input is what the gates look at for one candidate call.
type Input struct {
	Now     time.Time
	Purpose host.CallPurpose
	// Phone as the CRM holds it; AddressState the record's state, if any.
	Phone        string
	AddressState string
	// SellerName is the tenant's legal name; consent must name it.
	SellerName string
	// Consents are the tenant's records for the number.
	Consents []host.ConsentRecord
	// DNC is the number's internal do-not-call entry (nil: not listed).
	DNC *host.DNCEntry
	// Scrub is the platform's latest DNC scrub of the number (nil: none).
	Scrub *host.DNCScrub
	// FiredRecently counts the calls fired on this subject to this number
	// within the rule set's cap window.
	FiredRecently int
}

// Verdict is the gates' answer, and what the decision record keeps.
type Verdict struct {
	Outcome, Reason, Detail string
	Purpose                 host.CallPurpose
	Place                   Place
	LocalTimes              []host.LocalTime
	Consent                 *host.ConsentRecord
	Scrub                   *host.DNCScrub
	Earliest, Latest        *time.Time
	RuleSetVersion          string
}

func (v Verdict) block(reason, format string, args ...any) Verdict {
	v.Outcome, v.Reason, v.Detail = host.DecisionBlocked, reason, fmt.Sprintf(format, args...)
	return v
}

// Evaluate runs the gates in COMPLIANCE.md's order and stops at the
// first that blocks: classify, number and place, the internal
// do-not-call list, consent (and Washington's telemarketing ban),
// reassigned numbers, national and state DNC (telemarketing), the calling
// window in every candidate zone under every applicable rule, the
// frequency cap. It fails closed: anything unknown blocks.
func (rs *RuleSet) Evaluate(in Input) Verdict {
	v := Verdict{Purpose: host.ParsePurpose(string(in.Purpose)), RuleSetVersion: rs.Version, Scrub: in.Scrub}
	now := in.Now.UTC()

	// 2. Number and place.
	if strings.TrimSpace(in.Phone) == "" {
		return v.block(ReasonNoPhone, "the record has no phone number")
	}
	place, err := Locate(rs, in.Phone, in.AddressState)
	if err != nil {
		return v.block(ReasonInvalidNumber, "%q is not a valid phone number", in.Phone)
	}
	v.Place = place
	for _, z := range place.Zones {
		loc, _ := time.LoadLocation(z)
		v.LocalTimes = append(v.LocalTimes, host.LocalTime{Zone: z, Local: now.In(loc).Format(time.RFC3339)})
	}

	// 3. Revocation and the internal do-not-call list: a hard block.
	if in.DNC != nil {
		return v.block(ReasonDoNotCall, "%s is on the seller's do-not-call list since %s (%s)", place.Phone, in.DNC.AddedAt.Format(time.RFC3339), in.DNC.Source)
	}

	// 4. Consent: never implied by a CRM event.
	c, reason, detail := pickConsent(in, place.Phone, v.Purpose)
	if c == nil {
		return v.block(reason, "%s", detail)
	}
	v.Consent = c
	if v.Purpose == host.PurposeTelemarketing {
		for _, st := range place.States {
			if rs.States[st].BlockTelemarketing {
				return v.block(ReasonStateBan, "%s bans telemarketing by automatic dialing-announcing devices", st)
			}
		}
	}

	// 5. Reassigned numbers.
	if in.Scrub != nil && in.Scrub.Reassigned == host.ReassignedYes {
		return v.block(ReasonReassigned, "the Reassigned Numbers Database says %s was reassigned", place.Phone)
	}

	// 6. National and state DNC, for telemarketing.
	if v.Purpose == host.PurposeTelemarketing {
		if in.Scrub == nil || in.Scrub.NationalListDate == nil {
			return v.block(ReasonDNCMissing, "telemarketing needs the platform's DNC scrub of %s with its list date; there is none", place.Phone)
		}
		for _, l := range []struct {
			name string
			date *time.Time
		}{{"national", in.Scrub.NationalListDate}, {"state", in.Scrub.StateListDate}} {
			if l.date != nil && now.Sub(*l.date) > rs.DNCMaxAge {
				return v.block(ReasonDNCStale, "the %s DNC list copy of %s is older than %d days", l.name, l.date.Format(time.DateOnly), int(rs.DNCMaxAge.Hours()/24))
			}
		}
		// A registered number is callable only with written consent
		// naming the seller, which pickConsent already required.
	}

	// 7. Calling window, in every candidate zone, under every rule.
	rules := []namedRule{{"federal", "", rs.Federal}}
	if len(place.States) == 0 {
		rules = append(rules, namedRule{"unknown state", "", rs.Unknown})
	}
	for _, st := range place.States {
		if slices.Contains(rs.Emergencies, st) && rs.States[st].BlockInEmergency {
			return v.block(ReasonEmergency, "%s is under a declared emergency", st)
		}
		if r, ok := rs.States[st]; ok {
			rules = append(rules, namedRule{st, st, r})
		}
	}
	latest := time.Time{}
	for _, z := range place.Zones {
		loc, _ := time.LoadLocation(z)
		local := now.In(loc)
		for _, r := range rules {
			end, reason, why := rs.open(r, local)
			if reason != "" {
				return v.block(reason, "%s at %s local time (%s): %s", r.name, local.Format("Mon 2006-01-02 15:04"), z, why)
			}
			if latest.IsZero() || end.Before(latest) {
				latest = end
			}
		}
	}
	if len(place.Zones) == 0 {
		return v.block(ReasonOutsideWindow, "no time zone is known for %s", place.Phone)
	}

	// 8. Frequency.
	for _, st := range place.States {
		if rs.States[st].Cap && in.FiredRecently >= rs.CapCalls {
			return v.block(ReasonFrequencyCap, "%s allows %d calls per %s on one subject; %d were made", st, rs.CapCalls, rs.CapWindow, in.FiredRecently)
		}
	}

	v.Outcome = host.DecisionFired
	latest = latest.UTC()
	v.Earliest, v.Latest = &now, &latest
	return v
}

type namedRule struct {
	name, state string
	rule        StateRule
}

// open checks one rule at a local time: the end of the permitted window
// that contains it, or the reason it is not permitted.
func (rs *RuleSet) open(r namedRule, local time.Time) (time.Time, string, string) {
	if r.rule.NoSundays && local.Weekday() == time.Sunday {
		return time.Time{}, ReasonSundayHoliday, "no calls on Sundays"
	}
	if r.rule.NoHolidays && rs.holiday(r.state, local) {
		return time.Time{}, ReasonSundayHoliday, "no calls on holidays"
	}
	w := r.rule.Hours[local.Weekday()]
	if w == nil {
		return time.Time{}, ReasonOutsideWindow, fmt.Sprintf("no calls on %ss", local.Weekday())
	}
	m := local.Hour()*60 + local.Minute()
	if m < w.Start || m >= w.End {
		return time.Time{}, ReasonOutsideWindow, fmt.Sprintf("calls only %02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
	}
	y, mo, d := local.Date()
	return time.Date(y, mo, d, w.End/60, w.End%60, 0, 0, local.Location()), "", ""
}

// pickConsent returns the newest consent that allows the call, or why
// none does.
func pickConsent(in Input, phone string, purpose host.CallPurpose) (*host.ConsentRecord, string, string) {
	var revoked, scoped []string
	for i := range in.Consents {
		c := in.Consents[i]
		if c.Phone != phone {
			continue
		}
		switch {
		case c.Revoked():
			revoked = append(revoked, c.ID)
		case !strings.EqualFold(strings.TrimSpace(c.SellerName), strings.TrimSpace(in.SellerName)) || strings.TrimSpace(in.SellerName) == "":
			scoped = append(scoped, c.ID+" names another seller")
		case !c.AIVoice:
			scoped = append(scoped, c.ID+" does not cover an artificial (AI) voice")
		case !c.Covers(purpose):
			scoped = append(scoped, c.ID+" does not cover "+string(purpose)+" calls")
		case purpose == host.PurposeTelemarketing && !c.Written:
			scoped = append(scoped, c.ID+" is not prior express written consent")
		default:
			return &c, "", ""
		}
	}
	switch {
	case len(scoped) > 0:
		return nil, ReasonConsentScope, "no consent allows this call: " + strings.Join(scoped, "; ")
	case len(revoked) > 0:
		return nil, ReasonConsentRevoked, "consent was revoked (" + strings.Join(revoked, ", ") + ")"
	}
	return nil, ReasonConsentMissing, "no consent record is linked to " + phone + ": a CRM event never implies consent"
}
