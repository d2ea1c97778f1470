package mapping_test

import (
	"slices"
	"testing"

	"crmhost.dev/host"
	"crmhost.dev/host/mapping"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

var desc = sdk.Description{Slug: "crm", Objects: []sdk.ObjectInfo{
	{Name: "contacts", Canonical: "customer", DefaultFields: map[string]string{"customer.phone": "phone", "customer.first_name": "firstname"}},
	{Name: "deals", Canonical: "deal", DefaultFields: map[string]string{"deal.name": "dealname"}},
	{Name: "widgets"},
}}

func TestDefaultsReproduceDriverNames(t *testing.T) {
	m := mapping.Resolve(desc, nil)
	obj, err := m.Object("customer")
	if err != nil || obj != "contacts" {
		t.Fatalf("Object(customer) = %q, %v", obj, err)
	}
	got, err := m.Write("customer", map[string]any{"phone": "+1", "customer.first_name": "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"phone": "+1", "firstname": "Ann"}, got); diff != "" {
		t.Fatal(diff)
	}
	read := m.Read("customer", map[string]any{"phone": "+1", "firstname": "Ann", "other": 1})
	if diff := cmp.Diff(map[string]any{"phone": "+1", "first_name": "Ann"}, read); diff != "" {
		t.Fatal(diff)
	}
	if o, _ := m.Object("widgets"); o != "widgets" {
		t.Fatalf("native object: %q", o)
	}
	if m.Canonical("deals") != "deal" {
		t.Fatal("Canonical")
	}
}

func TestOverrides(t *testing.T) {
	m := mapping.Resolve(desc, []host.FieldMapping{
		{Kind: host.MappingObject, Key: "lead", Target: "contacts"},
		{Kind: host.MappingWrite, Key: "lead.budget_max", Target: "budget.max"},
		{Kind: host.MappingRead, Key: "lead.budget_max", Target: "budget.max"},
		{Kind: host.MappingRead, Key: "customer.phone", Target: "mobilephone"},
	})
	if o, _ := m.Object("lead"); o != "contacts" {
		t.Fatalf("lead -> %q", o)
	}
	w, err := m.Write("lead", map[string]any{"budget_max": 5000.0})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"budget": map[string]any{"max": 5000.0}}, w); diff != "" {
		t.Fatal(diff)
	}
	r := m.Read("lead", map[string]any{"budget": map[string]any{"max": 5000.0}})
	if r["budget_max"] != 5000.0 {
		t.Fatalf("read nested: %v", r)
	}
	// Read override wins for reads, write default stays for writes.
	if r := m.Read("customer", map[string]any{"phone": "a", "mobilephone": "b"}); r["phone"] != "b" {
		t.Fatalf("read override: %v", r)
	}
	if w, _ := m.Write("customer", map[string]any{"phone": "a"}); w["phone"] != "a" {
		t.Fatalf("write default: %v", w)
	}
}

func TestUnknownKeysAndObjects(t *testing.T) {
	m := mapping.Resolve(desc, nil)
	_, err := m.Write("customer", map[string]any{"budget_max": 1, "shoe_size": 2, "phone": "x"})
	var he *host.Error
	if !asHost(err, &he) || he.Code != host.CodeInvalid || he.Field != "fields.budget_max" ||
		!contains(he.Message, "customer.budget_max") || !contains(he.Message, "customer.shoe_size") {
		t.Fatalf("unknown keys: %v", err)
	}
	if _, err := m.Object("spaceship"); host.CodeOf(err) != host.CodeInvalid {
		t.Fatalf("unknown object: %v", err)
	}
	for _, c := range []host.FieldMapping{
		{TenantID: "t", Kind: host.MappingWrite, Key: "nodot", Target: "x"},
		{TenantID: "t", Kind: host.MappingObject, Key: "lead", Target: "nonexistent"},
		{TenantID: "t", Kind: "weird", Key: "a.b", Target: "x"},
	} {
		if err := mapping.ValidateOverride(desc, c); host.CodeOf(err) != host.CodeInvalid {
			t.Errorf("ValidateOverride(%+v) = %v", c, err)
		}
	}
	if err := mapping.ValidateOverride(desc, host.FieldMapping{TenantID: "t", Kind: host.MappingWrite, Key: "lead.x", Target: "y"}); err != nil {
		t.Errorf("valid override refused: %v", err)
	}
}

func TestReadFieldsAndCanonicalField(t *testing.T) {
	m := mapping.Resolve(desc, []host.FieldMapping{
		{TenantID: "t", Kind: host.MappingRead, Key: "customer.budget", Target: "properties.budget__c"},
		{TenantID: "t", Kind: host.MappingWrite, Key: "customer.budget", Target: "properties.budget__c"},
	})
	got := m.ReadFields("customer")
	if !slices.Contains(got, "properties.budget__c") || !slices.IsSorted(got) {
		t.Errorf("ReadFields(customer) = %v, want sorted and holding the override's target", got)
	}
	for _, provider := range []string{"properties.budget__c", "budget__c", "properties"} {
		if key, ok := m.CanonicalField("customer", provider); !ok || key != "budget" {
			t.Errorf("CanonicalField(customer, %q) = %q, %t; want budget", provider, key, ok)
		}
	}
	if key, ok := m.CanonicalField("customer", "nothing_maps_here"); ok {
		t.Errorf("CanonicalField of an unmapped field = %q", key)
	}
}
