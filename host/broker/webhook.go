package broker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// Event is an inbound webhook event for one tenant, with its object
// mapped to the tenant's canonical object.
type Event struct {
	ID             string         `json:"id"`
	Kind           string         `json:"kind"`
	Type           string         `json:"type"`
	Object         string         `json:"object"`
	ProviderObject string         `json:"provider_object"`
	ExternalID     string         `json:"external_id"`
	AccountID      string         `json:"account_id,omitempty"`
	OccurredAt     *time.Time     `json:"occurred_at,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
}

// Delivery is what one inbound webhook brought one tenant.
type Delivery struct {
	TenantID string  `json:"tenant_id"`
	Events   []Event `json:"events"`
}

// WebhookReceipt is the outcome of one inbound webhook: the answer the
// provider expects (nil: a plain 2xx), the events per tenant, and how
// many were stored new or recognised as already stored (a provider's
// retry or replay).
type WebhookReceipt struct {
	Reply      *sdk.WebhookReply
	Deliveries []Delivery
	Stored     int
	Duplicates int
}

// EventQueue enqueues the processing of freshly stored inbound events.
// host/jobs' Runner implements it on River. An enqueue that fails is not
// lost: the events are stored, and the runner's rescue enqueues received
// events that have no job.
type EventQueue interface {
	EnqueueEvents(ctx context.Context, events []host.InboundEvent) error
}

// ReceiveWebhook takes an inbound webhook addressed to a provider's one
// URL. The driver routes it with only the request and the app
// credentials (the provider accounts it concerns, or a handshake reply),
// then verifies it for each tenant connected to those accounts and
// normalises that tenant's events. The events are then stored, every
// tenant's in one transaction, deduplicated by the provider's key (the
// event's ID, or a hash of its content when the driver gives none),
// before ReceiveWebhook returns and so before the provider gets its 2xx;
// the new ones are handed to the event queue for processing. A failure
// to store them is an error (the provider retries). Every tenant's
// receipt is audited. Errors: CodeNotFound (no driver for the provider, or no connection for
// any account the delivery names), sdk.CodeUnsupported (the driver
// receives no webhooks), sdk.CodeAuth (a bad signature), CodeInvalid (a
// malformed delivery), CodeDriverUnavailable.
func (b *Broker) ReceiveWebhook(ctx context.Context, a Actor, provider string, req sdk.WebhookRequest) (WebhookReceipt, error) {
	desc, err := b.describeDriver(ctx, provider)
	if err != nil {
		return WebhookReceipt{}, err
	}
	if !desc.Capabilities.RouteWebhook || !desc.Capabilities.VerifyWebhook {
		return WebhookReceipt{}, sdk.Errorf(sdk.CodeUnsupported, "%s receives no webhooks at the provider URL", desc.Slug)
	}
	app, err := b.appCredentials(ctx, desc)
	if err != nil {
		return WebhookReceipt{}, err
	}
	if req.Now.IsZero() {
		req.Now = b.now()
	}
	var route sdk.WebhookRoute
	err = b.drivers.Call(ctx, provider, sdk.VerbRouteWebhook, func(ctx context.Context, d *sdk.Client) error {
		var err error
		route, err = d.RouteWebhook(ctx, sdk.Connection{App: app}, req)
		return err
	})
	if err != nil {
		b.record(ctx, a, "", "webhook.route", host.OutcomeError, desc.Slug+" "+string(host.CodeOf(err)))
		return WebhookReceipt{}, err
	}
	if route.Reply != nil {
		return WebhookReceipt{Reply: route.Reply}, nil
	}
	out := WebhookReceipt{}
	var unknown []string
	for _, acct := range route.AccountIDs {
		conns, err := b.store.ConnectionsByAccount(ctx, provider, acct)
		if err != nil {
			return out, err
		}
		if len(conns) == 0 {
			unknown = append(unknown, acct)
			continue
		}
		for _, c := range conns {
			d, reply, err := b.verifyFor(ctx, a, c.TenantID, req)
			if err != nil {
				return out, err
			}
			if reply != nil {
				out.Reply = reply
			}
			out.Deliveries = append(out.Deliveries, d)
		}
	}
	if len(out.Deliveries) == 0 {
		b.record(ctx, a, "", "webhook.route", host.OutcomeError, fmt.Sprintf("%s: no connection for account %s", desc.Slug, strings.Join(unknown, ", ")))
		return out, host.NotFound("no %s connection is recorded for provider account %s", desc.Slug, strings.Join(unknown, ", "))
	}
	if err := b.storeEvents(ctx, a, provider, &out); err != nil {
		return out, err
	}
	return out, nil
}

// storeEvents stores the receipt's events and enqueues the new ones.
func (b *Broker) storeEvents(ctx context.Context, a Actor, provider string, out *WebhookReceipt) error {
	var evs []host.InboundEvent
	for _, d := range out.Deliveries {
		for _, e := range d.Events {
			key := e.ID
			if key == "" {
				key = host.FallbackDedupeKey(e.Kind, e.Type, e.ProviderObject, e.ExternalID, e.OccurredAt, e.Data)
			}
			evs = append(evs, host.InboundEvent{TenantID: d.TenantID, Provider: provider, DedupeKey: key, Kind: e.Kind, Type: e.Type,
				Object: e.Object, ProviderObject: e.ProviderObject, ExternalID: e.ExternalID, AccountID: e.AccountID,
				OccurredAt: e.OccurredAt, RequestID: a.RequestID, Data: e.Data})
		}
	}
	if len(evs) == 0 {
		return nil
	}
	fresh, err := b.store.RecordInboundEvents(ctx, evs)
	if err != nil {
		b.log.Error("storing inbound events failed", "provider", provider, "request_id", a.RequestID, "error", err)
		return err
	}
	out.Stored, out.Duplicates = len(fresh), len(evs)-len(fresh)
	if b.events != nil && len(fresh) > 0 {
		if err := b.events.EnqueueEvents(ctx, fresh); err != nil {
			b.log.Warn("enqueueing stored events failed; the rescue will", "provider", provider, "request_id", a.RequestID, "error", err)
		}
	}
	return nil
}

// verifyFor verifies an inbound webhook for one tenant and maps its events.
func (b *Broker) verifyFor(ctx context.Context, a Actor, tenantID string, req sdk.WebhookRequest) (Delivery, *sdk.WebhookReply, error) {
	a.ConversationID = ""
	s, err := b.open(ctx, a, tenantID)
	if err != nil {
		return Delivery{}, nil, err
	}
	var res sdk.WebhookResult
	err = b.call(ctx, a, s, sdk.VerbVerifyWebhook, func(ctx context.Context, d *sdk.Client, conn sdk.Connection) error {
		var err error
		res, err = d.VerifyWebhook(ctx, conn, req)
		return err
	})
	if err != nil {
		b.record(ctx, a, tenantID, "webhook.receive", host.OutcomeError, string(host.CodeOf(err)))
		return Delivery{}, nil, err
	}
	out := Delivery{TenantID: tenantID, Events: make([]Event, 0, len(res.Events))}
	for _, e := range res.Events {
		ev := Event{ID: e.ID, Kind: e.Kind, Type: e.Type, Object: s.mapping.Canonical(e.Object), ProviderObject: e.Object,
			ExternalID: e.ExternalID, AccountID: e.AccountID, Data: e.Data}
		if ev.Object == e.Object && e.CanonicalObject != "" {
			ev.Object = e.CanonicalObject
		}
		if !e.OccurredAt.IsZero() {
			t := e.OccurredAt.UTC()
			ev.OccurredAt = &t
		}
		out.Events = append(out.Events, ev)
	}
	b.record(ctx, a, tenantID, "webhook.receive", host.OutcomeOK, fmt.Sprintf("%s: %d events", s.desc.Slug, len(out.Events)))
	return out, res.Reply, nil
}
