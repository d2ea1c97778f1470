package outbound_test

import (
	"testing"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/mapping"
	"crmhost.dev/host/outbound"
	"crmhost.dev/sdk"
)

// TestTriggerFields: a canonical trigger key resolves through the
// tenant's trigger mapping to the provider's field, and a stage id to its
// label ("deal stage became Viewing booked"); a state change is derived
// by comparing with the last known state when the provider sends only the
// latest record.
func TestTriggerFields(t *testing.T) {
	desc := sdk.Description{Objects: []sdk.ObjectInfo{{Name: "deals", Canonical: "deal", DefaultFields: map[string]string{"deal.name": "properties.dealname"}}}}
	m := mapping.Resolve(desc, []host.FieldMapping{
		{Kind: host.MappingTrigger, Key: "deal.stage", Target: "properties.dealstage"},
		{Kind: host.MappingTrigger, Key: "deal.stage=Viewing booked", Target: "appointmentscheduled"},
		{Kind: host.MappingTrigger, Key: "deal.stage=Closed won", Target: "closedwon"},
	})
	native := func(stage string) map[string]any {
		return map[string]any{"properties": map[string]any{"dealstage": stage, "dealname": "12 Elm St"}}
	}
	for _, c := range []struct {
		key, stage string
		want       any
		ok         bool
	}{
		{"deal.stage", "appointmentscheduled", "Viewing booked", true},
		{"deal.stage", "qualifiedtobuy", "qualifiedtobuy", true}, // no label: the id
		{"deal.name", "x", "12 Elm St", true},                    // a read mapping serves too
		{"deal.owner", "x", nil, false},
	} {
		got, ok := outbound.FieldValue(m, c.key, native(c.stage), nil)
		if got != c.want || ok != c.ok {
			t.Errorf("FieldValue(%s, %s) = %v, %v; want %v, %v", c.key, c.stage, got, ok, c.want, c.ok)
		}
	}
	if !outbound.Mapped(m, "deal.stage") || !outbound.Mapped(m, "deal.name") || outbound.Mapped(m, "deal.owner") || outbound.Mapped(m, "stage") {
		t.Error("Mapped disagrees with the mapping")
	}

	rule := host.TriggerRule{Conditions: []host.Condition{{Field: "deal.stage", Op: host.OpChangedTo, Value: "Viewing booked"}}}
	at := time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC)
	prev := &host.RecordState{Fields: map[string]any{"deal.stage": "qualifiedtobuy"}, OccurredAt: at}
	now := map[string]any{"deal.stage": "Viewing booked"}
	cases := []struct {
		name    string
		prev    *host.RecordState
		values  map[string]any
		created bool
		want    bool
	}{
		{"the stage became Viewing booked", prev, now, false, true},
		{"it already was", &host.RecordState{Fields: now}, now, false, false},
		{"an update with no known state: unknown, so no", nil, now, false, false},
		{"a record created in that stage", nil, now, true, true},
		{"another stage", prev, map[string]any{"deal.stage": "Closed won"}, false, false},
	}
	for _, c := range cases {
		if got := outbound.Matches(rule, c.values, outbound.Changes(c.prev, c.values, c.created)); got != c.want {
			t.Errorf("%s: matches = %v, want %v", c.name, got, c.want)
		}
	}
}
