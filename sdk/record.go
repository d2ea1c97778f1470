package sdk

import (
	"sort"
	"time"
)

// Record is one CRM record as a driver sees it: Object and Fields use the
// provider's own names (the host's mapping translates them to canonical
// keys). Field values are JSON values: string, float64, bool, nil,
// []any or map[string]any.
type Record struct {
	Object     string         `json:"object"`
	ExternalID string         `json:"external_id"`
	RecordURL  string         `json:"record_url,omitempty"`
	Fields     map[string]any `json:"fields"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// MostRecent applies the lookup tie-break: it returns the most recently
// updated record (ties broken by the larger external id, so the answer is
// stable) and the number of matches. It returns nil, 0 for no records.
func MostRecent(records []Record) (*Record, int) {
	if len(records) == 0 {
		return nil, 0
	}
	best := records[0]
	for _, r := range records[1:] {
		if r.UpdatedAt.After(best.UpdatedAt) || (r.UpdatedAt.Equal(best.UpdatedAt) && r.ExternalID > best.ExternalID) {
			best = r
		}
	}
	return &best, len(records)
}

// SortOldestFirst orders records by UpdatedAt ascending (then external id),
// the order ListRecent answers in.
func SortOldestFirst(records []Record) {
	sort.SliceStable(records, func(i, j int) bool {
		a, b := records[i], records[j]
		if !a.UpdatedAt.Equal(b.UpdatedAt) {
			return a.UpdatedAt.Before(b.UpdatedAt)
		}
		return a.ExternalID < b.ExternalID
	})
}
