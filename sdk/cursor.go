package sdk

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// Position is a place in a stream of records ordered by (UpdatedAt,
// ExternalID): the records after it are those modified later, or at the
// same instant with a greater external id. A list resumed from a Position
// never skips nor repeats records that share a timestamp, even where the
// provider's timestamps have one-second granularity.
type Position struct {
	At time.Time `json:"t"`
	ID string    `json:"id,omitempty"`
}

// After reports whether r comes after p in the stream.
func (p Position) After(r Record) bool {
	if !r.UpdatedAt.Equal(p.At) {
		return r.UpdatedAt.After(p.At)
	}
	return r.ExternalID > p.ID
}

// PositionOf returns the position of r: the records after it come after r.
func PositionOf(r Record) Position { return Position{At: r.UpdatedAt.UTC(), ID: r.ExternalID} }

// EncodeCursor returns p as an opaque cursor string.
func EncodeCursor(p Position) string {
	b, _ := json.Marshal(Position{At: p.At.UTC(), ID: p.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor. Errors: CodeInvalid
// naming "cursor".
func DecodeCursor(s string) (Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var p Position
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		return Position{}, Invalid("cursor", "is not a cursor this driver issued")
	}
	return p, nil
}

// Start returns where a ListQuery starts: its decoded Cursor, or just
// before Since (so records modified at Since are included). Errors:
// CodeInvalid naming "cursor".
func (q ListQuery) Start() (Position, error) {
	if q.Cursor != "" {
		return DecodeCursor(q.Cursor)
	}
	return Position{At: q.Since.UTC()}, nil
}

// PageAfter is the usual tail of a ListRecent built on timestamps: given
// candidate records (any order, possibly including ones at or before
// start, as a provider filter "modified >= t" returns them), it sorts them
// oldest first, keeps those after start, and cuts the page at limit. The
// result's NextCursor is the position after the page's last record (start
// itself when the page is empty), HasMore whether records were cut.
func PageAfter(candidates []Record, start Position, limit int) ListResult {
	SortOldestFirst(candidates)
	out := ListResult{Records: []Record{}}
	for _, r := range candidates {
		if !start.After(r) {
			continue
		}
		if limit > 0 && len(out.Records) == limit {
			out.HasMore = true
			break
		}
		out.Records = append(out.Records, r)
	}
	next := start
	if n := len(out.Records); n > 0 {
		next = PositionOf(out.Records[n-1])
	}
	out.NextCursor = EncodeCursor(next)
	return out
}
