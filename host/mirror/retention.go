package mirror

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"crmhost.dev/host"
)

// maxPurgeBatches bounds the batches one purge pass runs per class; the
// next pass goes on where it stopped.
const maxPurgeBatches = 20

// Purge drops the content of every written row past its class's retention
// window (counted from the later of its insert and its last CRM write), in
// bounded batches, leaving tombstones; rows the CRM does not have (pending,
// failed, unsupported) are never touched, whatever their age. Counts go to
// metrics and, per tenant, to one audit row (mirror.purge). It returns
// the counts.
func (s *Service) Purge(ctx context.Context) ([]host.PurgeResult, error) {
	now := s.now()
	var all []host.PurgeResult
	for _, class := range host.MirrorClasses {
		before := now.Add(-s.o.Retention[class])
		for range maxPurgeBatches {
			res, err := s.o.Store.PurgeMirrorRows(ctx, class, before, now.Add(-s.o.TombstoneTTL), s.o.PurgeBatch)
			if err != nil {
				return all, fmt.Errorf("mirror: purge %s: %w", class, err)
			}
			n := 0
			for _, r := range res {
				n += r.Count
				s.o.Metrics.purged.WithLabelValues(string(r.Class)).Add(float64(r.Count))
			}
			all = append(all, res...)
			if n < s.o.PurgeBatch {
				break
			}
		}
	}
	byTenant := map[string]map[host.MirrorClass]int{}
	for _, r := range all {
		if byTenant[r.TenantID] == nil {
			byTenant[r.TenantID] = map[host.MirrorClass]int{}
		}
		byTenant[r.TenantID][r.Class] += r.Count
	}
	for tenant, counts := range byTenant {
		s.o.Broker.Audit(ctx, systemActor, tenant, "mirror.purge", host.OutcomeOK, countsText(counts))
	}
	return all, nil
}

// countsText renders counts by class: "conversation=1 message=12".
func countsText(counts map[host.MirrorClass]int) string {
	var parts []string
	for c, n := range counts {
		parts = append(parts, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
