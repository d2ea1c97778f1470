package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/mapping"
	"crmhost.dev/sdk"
)

// Mappings answers the mapping routes: the tenant's overrides and the
// effective mapping (driver defaults plus overrides).
type Mappings struct {
	Overrides []host.FieldMapping `json:"overrides"`
	Effective []host.FieldMapping `json:"effective"`
}

func (b *Broker) describeTenant(ctx context.Context, tenantID string) (sdk.Description, error) {
	conn, err := b.store.GetConnection(ctx, tenantID)
	if err != nil {
		return sdk.Description{}, b.connectionErr(ctx, tenantID, err)
	}
	return b.drivers.Describe(ctx, conn.Provider)
}

// ListMappings returns the tenant's overrides and effective mapping.
func (b *Broker) ListMappings(ctx context.Context, tenantID string) (Mappings, error) {
	desc, err := b.describeTenant(ctx, tenantID)
	if err != nil {
		return Mappings{}, err
	}
	ov, err := b.store.ListMappings(ctx, tenantID, "")
	if err != nil {
		return Mappings{}, err
	}
	if ov == nil {
		ov = []host.FieldMapping{}
	}
	return Mappings{Overrides: ov, Effective: mapping.Resolve(desc, ov).Effective(tenantID)}, nil
}

// SetMapping validates an override against the tenant's driver and, for
// a read or write override when the driver can describe the object, its
// live schema (see checkLive), then stores it. Errors: CodeInvalid
// (naming key or target), CodeNotFound, CodeNotConnected, and the
// driver's codes when the live schema cannot be had.
func (b *Broker) SetMapping(ctx context.Context, a Actor, m host.FieldMapping) (host.FieldMapping, error) {
	desc, err := b.describeTenant(ctx, m.TenantID)
	if err != nil {
		return host.FieldMapping{}, err
	}
	if err := mapping.ValidateOverride(desc, m); err != nil {
		return host.FieldMapping{}, err
	}
	if err := b.checkLive(ctx, a, desc, m); err != nil {
		return host.FieldMapping{}, err
	}
	out, err := b.store.SetMapping(ctx, m)
	b.Forget(m.TenantID)
	if err == nil {
		b.record(ctx, a, m.TenantID, "mapping.set", host.OutcomeOK, string(m.Kind)+" "+m.Key+" -> "+m.Target)
	}
	return out, err
}

// DeleteMapping removes an override. Errors: CodeNotFound.
func (b *Broker) DeleteMapping(ctx context.Context, a Actor, tenantID string, kind host.MappingKind, key string) error {
	err := b.store.DeleteMapping(ctx, tenantID, kind, key)
	b.Forget(tenantID)
	if err == nil {
		b.record(ctx, a, tenantID, "mapping.delete", host.OutcomeOK, string(kind)+" "+key)
	}
	return err
}

// Fields lists a canonical (or provider) object's live fields from the CRM.
func (b *Broker) Fields(ctx context.Context, a Actor, tenantID, object string) (sdk.ObjectSchema, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	obj, err := s.mapping.Object(object)
	if err != nil {
		return sdk.ObjectSchema{}, err
	}
	if !s.desc.Capabilities.DescribeObject {
		return sdk.ObjectSchema{}, sdk.Errorf(sdk.CodeUnsupported, "%s cannot list live fields", s.desc.Slug)
	}
	var out sdk.ObjectSchema
	err = b.call(ctx, a, s, "describe_object", func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		out, err = d.DescribeObject(ctx, conn, obj)
		return err
	})
	return out, err
}

// checkLive checks a read or write override's target against the live
// fields of the provider object its canonical object resolves to, when the
// driver can describe objects: a field the CRM does not have, or (for a
// write) one it does not let anyone write, is CodeInvalid naming target.
// A nested target (a.b) is checked by its first segment. Nothing is
// checked for other kinds, for drivers without DescribeObject, or while
// the canonical object maps to no provider object yet.
func (b *Broker) checkLive(ctx context.Context, a Actor, desc sdk.Description, m host.FieldMapping) error {
	if (m.Kind != host.MappingRead && m.Kind != host.MappingWrite) || !desc.Capabilities.DescribeObject {
		return nil
	}
	object, _, _ := strings.Cut(m.Key, ".")
	s, err := b.open(ctx, a, m.TenantID)
	if err != nil {
		return err
	}
	if _, err := s.mapping.Object(object); err != nil {
		return nil
	}
	schema, err := b.Fields(ctx, a, m.TenantID, object)
	if err != nil {
		return err
	}
	name, _, _ := strings.Cut(m.Target, ".")
	i := slices.IndexFunc(schema.Fields, func(f sdk.Field) bool { return f.Name == name })
	switch {
	case i < 0:
		names := make([]string, 0, len(schema.Fields))
		for _, f := range schema.Fields {
			names = append(names, f.Name)
		}
		return &host.Error{Code: host.CodeInvalid, Field: "target", Message: fmt.Sprintf(
			"%s's %s has no field %q (its fields: %s)", desc.Slug, schema.Object, name, strings.Join(names, ", "))}
	case m.Kind == host.MappingWrite && schema.Fields[i].ReadOnly:
		return &host.Error{Code: host.CodeInvalid, Field: "target", Message: fmt.Sprintf(
			"%s's %s field %q is read-only: a write mapping cannot target it", desc.Slug, schema.Object, name)}
	}
	return nil
}

// Mapping returns the tenant's resolved mapping (the driver's defaults,
// the connection's objects and the tenant's overrides) and the driver's
// slug. Errors: CodeNotFound (tenant), CodeNotConnected,
// CodeDriverUnavailable.
func (b *Broker) Mapping(ctx context.Context, tenantID string) (*mapping.Mapping, string, error) {
	s, err := b.open(ctx, Actor{Type: host.ActorSystem}, tenantID)
	if err != nil {
		return nil, "", err
	}
	return s.mapping, s.desc.Slug, nil
}

// Resolved is a tenant's mapping as the broker resolves it for a call:
// the driver's description (with the connection's own objects), the
// tenant's overrides and the mapping they make.
type Resolved struct {
	Description sdk.Description
	Overrides   []host.FieldMapping
	Mapping     *mapping.Mapping
}

// ResolveMapping resolves the tenant's mapping as its next call would,
// without calling the CRM (the console's mapping studio renders writes
// with it). Errors: CodeNotFound (tenant), CodeNotConnected,
// CodeDriverUnavailable.
func (b *Broker) ResolveMapping(ctx context.Context, tenantID string) (Resolved, error) {
	conn, overrides, err := b.loadConfig(ctx, tenantID)
	if err != nil {
		return Resolved{}, b.connectionErr(ctx, tenantID, err)
	}
	desc, err := b.drivers.Describe(ctx, conn.Provider)
	if err != nil {
		return Resolved{}, err
	}
	if conn.Objects != nil {
		desc.Objects = conn.Objects
	}
	return Resolved{Description: desc, Overrides: overrides, Mapping: mapping.Resolve(desc, overrides)}, nil
}
