package broker

import (
	"context"
	"fmt"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// listObjects asks the driver for the connection's own objects and stores
// them (audited with their count), so the session's mapping and verb
// checks use them from now on.
func (b *Broker) listObjects(ctx context.Context, a Actor, s *session) ([]sdk.ObjectInfo, error) {
	var objs []sdk.ObjectInfo
	err := b.call(ctx, a, s, sdk.VerbListObjects, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		objs, err = d.ListObjects(ctx, conn)
		return err
	})
	if err != nil {
		b.record(ctx, a, s.conn.TenantID, "connection.objects", host.OutcomeError, string(host.CodeOf(err)))
		return nil, err
	}
	if objs == nil {
		objs = []sdk.ObjectInfo{}
	}
	if err := b.store.SetConnectionObjects(ctx, s.conn.TenantID, objs, b.now()); err != nil {
		return nil, err
	}
	b.Forget(s.conn.TenantID)
	s.desc.Objects = objs
	b.record(ctx, a, s.conn.TenantID, "connection.objects", host.OutcomeOK, fmt.Sprintf("%d objects", len(objs)))
	return objs, nil
}

// Objects returns the objects of the tenant's connection with the verbs
// each supports: the connection's own list when the driver has one
// (refreshed from the provider when refresh is set), the driver's
// otherwise. Errors: CodeNotFound, CodeNotConnected, driver codes.
func (b *Broker) Objects(ctx context.Context, a Actor, tenantID string, refresh bool) ([]sdk.ObjectInfo, error) {
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return nil, err
	}
	if refresh && s.desc.Capabilities.ListObjects {
		return b.listObjects(ctx, a, s)
	}
	return s.desc.Objects, nil
}
