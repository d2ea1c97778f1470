package storetest

import (
	"context"
	"testing"

	"crmhost.dev/host"
)

func testMappings(t *testing.T, s host.Store) {
	ctx := t.Context()
	tn, other := mustTenant(t, s, "map"), mustTenant(t, s, "map-other")

	m := func(kind host.MappingKind, key, target string) host.FieldMapping {
		return host.FieldMapping{TenantID: tn.ID, Kind: kind, Key: key, Target: target, UpdatedAt: t0}
	}
	// Set out of order; listed by kind then key.
	for _, in := range []host.FieldMapping{
		m(host.MappingWrite, "lead.budget_max", "budget__c"),
		m(host.MappingRead, "lead.phone", "mobilephone"),
		m(host.MappingObject, "lead", "contact"),
		m(host.MappingRead, "lead.budget_max", "budget__c"),
		m(host.MappingTrigger, "booking.created", "appointment.create"),
		m(host.MappingWrite, "lead.first_name", "firstname"),
	} {
		got, err := s.SetMapping(ctx, in)
		must(t, "SetMapping", err)
		diff(t, "SetMapping", in, got)
	}
	_, err := s.SetMapping(ctx, host.FieldMapping{TenantID: other.ID, Kind: host.MappingWrite, Key: "lead.budget_max", Target: "other"})
	must(t, "SetMapping", err)

	t.Run("Upsert", func(t *testing.T) {
		got, err := s.SetMapping(ctx, host.FieldMapping{TenantID: tn.ID, Kind: host.MappingWrite, Key: "lead.budget_max", Target: "properties.max_budget"})
		must(t, "SetMapping", err)
		checkStamp(t, "UpdatedAt", got.UpdatedAt)
		diff(t, "target", "properties.max_budget", got.Target)
	})

	t.Run("List", func(t *testing.T) {
		all, err := s.ListMappings(ctx, tn.ID, "")
		must(t, "ListMappings", err)
		var keys []string
		for _, x := range all {
			keys = append(keys, string(x.Kind)+" "+x.Key+" -> "+x.Target)
		}
		diff(t, "ListMappings (all kinds)", []string{
			"object lead -> contact",
			"read lead.budget_max -> budget__c",
			"read lead.phone -> mobilephone",
			"trigger booking.created -> appointment.create",
			"write lead.budget_max -> properties.max_budget",
			"write lead.first_name -> firstname",
		}, keys)

		reads, err := s.ListMappings(ctx, tn.ID, host.MappingRead)
		must(t, "ListMappings", err)
		diff(t, "ListMappings (read)", []host.FieldMapping{
			m(host.MappingRead, "lead.budget_max", "budget__c"),
			m(host.MappingRead, "lead.phone", "mobilephone"),
		}, reads)

		none, err := s.ListMappings(ctx, "ten_missing", "")
		must(t, "ListMappings", err)
		diff(t, "ListMappings (no tenant)", 0, len(none))
	})

	t.Run("Delete", func(t *testing.T) {
		must(t, "DeleteMapping", s.DeleteMapping(ctx, tn.ID, host.MappingRead, "lead.phone"))
		reads, err := s.ListMappings(ctx, tn.ID, host.MappingRead)
		must(t, "ListMappings", err)
		diff(t, "after delete", []host.FieldMapping{m(host.MappingRead, "lead.budget_max", "budget__c")}, reads)
		others, err := s.ListMappings(ctx, other.ID, "")
		must(t, "ListMappings", err)
		diff(t, "other tenant untouched", 1, len(others))
	})

	valid := m(host.MappingRead, "lead.x", "x")
	runErrors(t, []errorCase{
		{"DeleteMissing", func(ctx context.Context) error {
			return s.DeleteMapping(ctx, tn.ID, host.MappingRead, "lead.phone")
		}, host.CodeNotFound},
		{"DeleteOtherKind", func(ctx context.Context) error {
			return s.DeleteMapping(ctx, tn.ID, host.MappingObject, "lead.budget_max")
		}, host.CodeNotFound},
		{"SetUnknownTenant", func(ctx context.Context) error {
			x := valid
			x.TenantID = "ten_missing"
			_, err := s.SetMapping(ctx, x)
			return err
		}, host.CodeNotFound},
		{"SetBadKind", func(ctx context.Context) error {
			x := valid
			x.Kind = "sideways"
			_, err := s.SetMapping(ctx, x)
			return err
		}, host.CodeInvalid},
		{"SetNoKey", func(ctx context.Context) error {
			x := valid
			x.Key = ""
			_, err := s.SetMapping(ctx, x)
			return err
		}, host.CodeInvalid},
		{"SetNoTarget", func(ctx context.Context) error {
			x := valid
			x.Target = ""
			_, err := s.SetMapping(ctx, x)
			return err
		}, host.CodeInvalid},
		{"ListBadKind", func(ctx context.Context) error {
			_, err := s.ListMappings(ctx, tn.ID, "sideways")
			return err
		}, host.CodeInvalid},
	})
}
