package mindbody

import (
	"context"

	"crmhost.dev/sdk"
)

// SearchRecords runs Mindbody's search for an object, bounded by q.Limit:
// clients by first name, last name or email (GET
// /client/clients?searchText; phone numbers are not searched, look them up
// instead); appointments, class bookings and contact logs of the client
// whose id q.Query is (appointments without a query: everyone's for the
// next 30 days). Errors: CodeInvalid (naming "query" where a client id is
// required), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	o, err := lookupObject(q.Object)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return nil, err
	}
	switch o.name {
	case objAppointments:
		return d.searchAppointments(ctx, s, q.Query, limit)
	case objClassBooking:
		return d.searchClassBookings(ctx, s, q.Query, limit)
	case objContactLogs:
		return d.searchContactLogs(ctx, s, q.Query, limit)
	}
	found, err := s.searchClients(ctx, q.Query, limit)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Record, 0, len(found))
	for _, c := range found {
		out = append(out, toClientRecord(c))
	}
	return out, nil
}

// CreateRecord creates a record. Mindbody has no idempotency key, so each
// object is deduplicated the way Mindbody allows:
//
//   - clients: Mindbody refuses a second client with the same first name,
//     last name and email; the driver asks GET /client/clientduplicates
//     first and answers that client (writing the given fields that differ
//     onto it, and reactivating it), also when Mindbody reports the
//     duplicate on addclient. Without an email, an active client with the
//     same name and one of the phone numbers is answered. Without either,
//     a repeated create after a lost response makes a second client.
//   - appointments: the key is written to PartnerExternalId and looked for
//     among the client's appointments that day before booking.
//   - class bookings: a client is booked into a class once; a repeat
//     answers the existing booking.
//   - contact logs: the same text, method and name for the client within
//     a day is answered instead of a second log.
//
// Errors: CodeInvalid naming "fields.<name>" (unknown, read-only,
// wrongly typed or missing required fields), CodeNotFound (a client or
// class that does not exist), CodeConflict, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	switch o.name {
	case objAppointments:
		return d.createAppointment(ctx, s, in)
	case objClassBooking:
		return d.createClassBooking(ctx, s, in)
	case objContactLogs:
		return d.createContactLog(ctx, s, in)
	}
	return d.createClient(ctx, s, in)
}

// UpdateRecord changes only the given fields: clients through POST
// /client/updateclient (Active false deactivates one), appointments
// through updateappointment (Status through Execute: Cancelled cancels),
// class bookings by cancelling them, contact logs through
// updatecontactlog. Errors: CodeNotFound, CodeInvalid naming
// "fields.<name>" or "external_id", CodeConflict (a change that would
// duplicate another client), CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	switch o.name {
	case objAppointments:
		return d.updateAppointment(ctx, s, in)
	case objClassBooking:
		return d.updateClassBooking(ctx, s, in)
	case objContactLogs:
		return d.updateContactLog(ctx, s, in)
	}
	props, err := clientProps(conn, in.Fields)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	c, err := s.updateClient(ctx, in.ExternalID, props)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	d.dir.learn(d.dir.site(s, d.now()), c)
	return sdk.UpdateResult{Updated: true}, nil
}
