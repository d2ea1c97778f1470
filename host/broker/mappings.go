package broker

import (
	"context"

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

// SetMapping validates an override against the tenant's driver and stores
// it. Errors: CodeInvalid, CodeNotFound, CodeNotConnected.
func (b *Broker) SetMapping(ctx context.Context, a Actor, m host.FieldMapping) (host.FieldMapping, error) {
	desc, err := b.describeTenant(ctx, m.TenantID)
	if err != nil {
		return host.FieldMapping{}, err
	}
	if err := mapping.ValidateOverride(desc, m); err != nil {
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
