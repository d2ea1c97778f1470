package athena

import (
	"context"

	"crmhost.dev/sdk"
)

// unsupported is the error for a verb an object lacks, in the object's
// own words (the sdk answers it before the driver runs; direct callers get
// the same).
func unsupported(o objectType, verb string) error {
	code := sdk.CodeUnsupported
	if verb == sdk.VerbDeleteRecord || verb == sdk.VerbEraseRecord {
		code = sdk.CodeDeleteUnsupported
	}
	return &sdk.Error{Code: code, Message: o.unsupported[verb]}
}

// SearchRecords runs the object's athenaOne search: patients by email,
// phone, id, name or "first last MM/DD/YYYY" (enhanced best match);
// appointments by patient id or dates; open slots by dates; patient cases
// by patient id. At most q.Limit records. Errors: CodeInvalid naming
// "query" for a query of no known shape, CodeAuth, CodeRateLimited,
// CodeUnavailable.
func (d *Driver) SearchRecords(ctx context.Context, conn sdk.Connection, q sdk.SearchQuery) ([]sdk.Record, error) {
	o, err := lookupObject(q.Object)
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = sdk.DefaultLimit
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return nil, err
	}
	switch o.name {
	case objPatients:
		return s.searchPatients(ctx, o, q)
	case objAppointments:
		return s.searchAppointments(ctx, o, q)
	case objSlots:
		return s.searchSlots(ctx, o, q)
	}
	return s.searchCases(ctx, o, q)
}

// CreateRecord registers a patient (idempotent through athenaOne's
// server-side best match), books an open slot as an appointment
// (idempotent: a slot already booked for the same patient is that
// booking), or writes a patient case (idempotent through the key it
// carries). Errors: CodeInvalid naming "fields.<name>", CodeConflict (a
// slot booked by another patient), CodeAuth, CodeRateLimited,
// CodeUnavailable; CodeUnsupported for open slots.
func (d *Driver) CreateRecord(ctx context.Context, conn sdk.Connection, in sdk.CreateInput) (sdk.CreateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	if o.name == objSlots {
		return sdk.CreateResult{}, unsupported(o, sdk.VerbCreateRecord)
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.CreateResult{}, err
	}
	switch o.name {
	case objPatients:
		return s.createPatient(ctx, o, in)
	case objAppointments:
		return s.bookAppointment(ctx, o, in)
	}
	return s.createCase(ctx, o, in)
}

// UpdateRecord changes a patient's given fields (PUT /patients/{id}), or
// cancels or reschedules an appointment. Errors: CodeNotFound,
// CodeInvalid naming "fields.<name>", CodeAuth, CodeRateLimited,
// CodeUnavailable; CodeUnsupported for open slots and patient cases.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	o, err := lookupObject(in.Object)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if o.name != objPatients && o.name != objAppointments {
		return sdk.UpdateResult{}, unsupported(o, sdk.VerbUpdateRecord)
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if o.name == objPatients {
		return s.updatePatient(ctx, o, in)
	}
	return s.updateAppointment(ctx, o, in)
}
