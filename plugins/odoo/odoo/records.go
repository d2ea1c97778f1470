package odoo

import (
	"context"
	"strconv"

	"crmhost.dev/sdk"
)

// Delete modes (config delete_mode).
const (
	deleteUnlink  = "unlink"
	deleteArchive = "archive"
)

// UpdateRecord writes only the given fields (write([id], vals)); false or
// null clears one. A firstname or lastname alone, on a model that keeps
// one name, replaces that part of the current name (read first). Errors:
// CodeNotFound when the record does not exist (Odoo's MissingError),
// CodeInvalid naming external_id or "fields.<name>", CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) UpdateRecord(ctx context.Context, conn sdk.Connection, in sdk.UpdateInput) (sdk.UpdateResult, error) {
	id, err := parseID(in.ExternalID)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	o := objectFor(in.Object)
	m, err := s.schema(ctx, o.name)
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	vals, parts, err := writeValues(o, m, in.Fields, region(conn))
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	if parts.given() && isUnset(vals[o.names]) {
		current := ""
		if parts.partial() {
			var rows []map[string]any
			if err := s.call(ctx, o.name, "read", []int{id}, map[string]any{"fields": []string{o.names}}, &rows); err != nil {
				return sdk.UpdateResult{}, err
			}
			if len(rows) == 1 {
				current, _ = rows[0][o.names].(string)
			}
		}
		vals[o.names] = parts.compose(current)
	}
	if err := s.call(ctx, o.name, "write", []int{id}, map[string]any{"vals": vals}, nil); err != nil {
		return sdk.UpdateResult{}, err
	}
	return sdk.UpdateResult{Updated: true, RecordURL: s.recordURL(o.name, id)}, nil
}

// DeleteRecord deletes a record: unlink by default, a hard SQL delete
// (HardDeleted true); with the connection's delete_mode "archive" it sets
// active=false instead (restorable in Odoo, HardDeleted false). The record
// is looked for first, archived ones included, since Odoo's unlink answers
// true for ids that do not exist on models without record rules.
//
// Errors: CodeNotFound; CodeConflict when Odoo refuses the unlink because
// other records need this one (archive it instead); CodeDeleteUnsupported
// for archive mode on a model without an active field; CodeInvalid naming
// external_id; CodeAuth, CodeRateLimited, CodeUnavailable.
func (d *Driver) DeleteRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	if conn.Get(configDeleteMode, deleteUnlink) == deleteArchive {
		return d.archive(ctx, conn, ref)
	}
	return d.unlink(ctx, conn, ref)
}

// EraseRecord unlinks the record, whatever the delete mode: Odoo keeps no
// trace of it (HardDeleted true). Errors as DeleteRecord's.
func (d *Driver) EraseRecord(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	return d.unlink(ctx, conn, ref)
}

func (d *Driver) unlink(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	s, id, err := d.found(ctx, conn, ref)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	if err := s.call(ctx, ref.Object, "unlink", []int{id}, nil, nil); err != nil {
		if e := sdk.AsError(err); e.Code == sdk.CodeInvalid {
			return sdk.DeleteResult{}, &sdk.Error{Code: sdk.CodeConflict, Cause: err,
				Message: e.Message + " (Odoo keeps the record; archiving it, with delete_mode archive, is the alternative)"}
		}
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true, HardDeleted: true}, nil
}

func (d *Driver) archive(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (sdk.DeleteResult, error) {
	s, id, err := d.found(ctx, conn, ref)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	m, err := s.schema(ctx, ref.Object)
	if err != nil {
		return sdk.DeleteResult{}, err
	}
	active := m.present("active", "x_active")
	if len(active) == 0 {
		return sdk.DeleteResult{}, sdk.Errorf(sdk.CodeDeleteUnsupported,
			"Odoo's %s has no active field, so its records cannot be archived (delete_mode is archive); erase deletes them for good", ref.Object)
	}
	if err := s.call(ctx, ref.Object, "write", []int{id}, map[string]any{"vals": map[string]any{active[0]: false}}, nil); err != nil {
		return sdk.DeleteResult{}, err
	}
	return sdk.DeleteResult{Deleted: true}, nil
}

// found opens a session and checks the record exists, archived or not.
func (d *Driver) found(ctx context.Context, conn sdk.Connection, ref sdk.RecordRef) (*session, int, error) {
	id, err := parseID(ref.ExternalID)
	if err != nil {
		return nil, 0, err
	}
	s, err := d.open(ctx, conn, false)
	if err != nil {
		return nil, 0, err
	}
	var ids []float64
	err = s.call(ctx, ref.Object, "search", nil, map[string]any{"domain": []any{[]any{"id", "=", id}}, "limit": 1,
		"context": map[string]any{"active_test": false}}, &ids)
	if err != nil {
		return nil, 0, err
	}
	if len(ids) == 0 {
		return nil, 0, sdk.Errorf(sdk.CodeNotFound, "Odoo has no %s record %s", ref.Object, strconv.Itoa(id))
	}
	return s, id, nil
}

var (
	_ sdk.Deleter = (*Driver)(nil)
	_ sdk.Eraser  = (*Driver)(nil)
)
