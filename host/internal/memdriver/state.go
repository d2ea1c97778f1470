package memdriver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// ConfigStateFile names a file the account's records and idempotency keys
// are kept in, so they outlive the driver process (and the host that runs
// it): a test that kills the host can count what reached the CRM, and a
// retried create after the restart still finds its first record.
const ConfigStateFile = "state_file"

// snapshot is an account on disk.
type snapshot struct {
	Seq     int                              `json:"seq"`
	Objects map[string]map[string]snapRecord `json:"objects"`
	Keys    map[string]string                `json:"keys"`
}

type snapRecord struct {
	Fields  map[string]any `json:"fields"`
	Updated time.Time      `json:"updated"`
}

// load fills a from path, when it exists. Guarded by Driver.mu.
func (a *account) load(path string) error {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var s snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	a.seq, a.keys = s.Seq, s.Keys
	if a.keys == nil {
		a.keys = map[string]string{}
	}
	for obj, recs := range s.Objects {
		if a.objects[obj] == nil {
			a.objects[obj] = map[string]*rec{}
		}
		for id, r := range recs {
			a.objects[obj][id] = &rec{id: id, fields: r.Fields, updated: r.Updated}
			if r.Updated.After(a.last) {
				a.last = r.Updated
			}
		}
	}
	return nil
}

// save writes a to its state file (atomically), if it has one. Guarded by
// Driver.mu.
func (a *account) save() error {
	if a.state == "" {
		return nil
	}
	s := snapshot{Seq: a.seq, Keys: a.keys, Objects: map[string]map[string]snapRecord{}}
	for obj, recs := range a.objects {
		s.Objects[obj] = map[string]snapRecord{}
		for id, r := range recs {
			s.Objects[obj][id] = snapRecord{Fields: r.fields, Updated: r.updated}
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(a.state), ".state-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), a.state)
}
