package mindbody

import (
	"context"

	"crmhost.dev/sdk"
)

// maxListRounds bounds how often ListRecent re-reads when clients keep
// changing under it.
const maxListRounds = 5

// ListRecent lists clients modified at or after q.Since, or after
// q.Cursor, oldest first, up to q.Limit, and reports deactivated clients
// as tombstones (Mindbody cannot delete a client; deactivating one is how
// a business removes it).
//
// GET /client/clients filters by lastModifiedDate but answers in its own
// order, so the oldest changes after a point are known only once every
// change after it has been read. The driver's directory of the site (see
// directory.go) keeps every client's modification time: after bringing it
// up to date it picks the clients after the cursor in (modified, id)
// order, reads them by id (20 a call) and answers those still as the
// directory saw them; a client modified in between is left for a later
// page (its new position is after this one's), and one that vanished is
// dropped. The cursor (sdk.Position) is the last record or tombstone
// answered, so clients sharing a timestamp are neither skipped nor
// repeated. Errors: CodeInvalid (a bad cursor), CodeAuth,
// CodeRateLimited, CodeUnavailable.
func (d *Driver) ListRecent(ctx context.Context, conn sdk.Connection, q sdk.ListQuery) (sdk.ListResult, error) {
	if q.Object != objClients {
		o, err := lookupObject(q.Object)
		if err != nil {
			return sdk.ListResult{}, err
		}
		return sdk.ListResult{}, sdk.Errorf(sdk.CodeUnsupported, "%s", o.unsupported[sdk.VerbListRecent])
	}
	start, err := q.Start()
	if err != nil {
		return sdk.ListResult{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	s, err := d.open(ctx, conn)
	if err != nil {
		return sdk.ListResult{}, err
	}
	sd := d.dir.site(s, d.now())
	out := sdk.ListResult{Records: []sdk.Record{}}
	pos := start
	for round := 0; round < maxListRounds && len(out.Records) < limit; round++ {
		if err := d.dir.refresh(ctx, s, sd); err != nil {
			return sdk.ListResult{}, err
		}
		items, more := sd.after(pos, limit-len(out.Records))
		var ids []string
		for _, it := range items {
			if it.active {
				ids = append(ids, it.id)
			}
		}
		found, err := s.clientsByID(ctx, ids, true)
		if err != nil {
			return sdk.ListResult{}, err
		}
		changed := false
		for _, it := range items {
			at := sdk.Position{At: it.modified, ID: it.id}
			if !it.active {
				out.Tombstones = append(out.Tombstones, sdk.Tombstone{Object: objClients, ExternalID: it.id, DeletedAt: it.modified})
				pos = at
				continue
			}
			c, ok := found[it.id]
			if !ok {
				sd.forget(it.id)
				changed = true
				continue
			}
			rec := toClientRecord(c)
			if !rec.UpdatedAt.Equal(it.modified) || !isActive(c) {
				d.dir.learn(sd, c)
				changed = true
				continue // changed since the directory saw it: a later page answers it
			}
			out.Records = append(out.Records, rec)
			pos = at
		}
		out.HasMore = more
		if !changed {
			break
		}
		out.HasMore = true
	}
	out.NextCursor = sdk.EncodeCursor(pos)
	return out, nil
}
