package main_test

import (
	"strings"
	"testing"
)

// TestDriverEgressAllowConfig: CRMHOST_DRIVER_EGRESS_ALLOW is a
// comma-separated list of CIDR prefixes; anything else refuses to start.
func TestDriverEgressAllowConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		ok    bool
	}{
		{"127.0.0.0/8", true}, {"127.0.0.0/8,::1/128", true}, {" 10.0.0.0/8 , fd00::/8 ", true},
		{"127.0.0.1", false}, {"localhost", false}, {"127.0.0.0/8,", false}, {"10.0.0.0/33", false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			c := newCLI(t)
			c.env = []string{"CRMHOST_DRIVER_EGRESS_ALLOW=" + tc.value}
			if tc.ok {
				c.ok("tenant", "list")
				return
			}
			for _, args := range [][]string{{"tenant", "list"}, {"serve", "--addr", "127.0.0.1:0"}} {
				_, errOut, code := c.run(args...)
				if code != 1 || !strings.Contains(errOut, "CRMHOST_DRIVER_EGRESS_ALLOW") {
					t.Errorf("crmhost %v: exit %d, %q; want a refusal naming CRMHOST_DRIVER_EGRESS_ALLOW", args, code, errOut)
				}
			}
		})
	}
}

// TestAuditRetentionConfig: CRMHOST_AUDIT_RETENTION is 0 (keep forever)
// or a Go duration from 24h to 87600h, CRMHOST_PRUNE_BATCH a row count
// from 1 to 100000; anything else refuses to start.
func TestAuditRetentionConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env string
		ok  bool
	}{
		{"CRMHOST_AUDIT_RETENTION=0", true}, {"CRMHOST_AUDIT_RETENTION=24h", true}, {"CRMHOST_AUDIT_RETENTION=87600h", true},
		{"CRMHOST_AUDIT_RETENTION=23h", false}, {"CRMHOST_AUDIT_RETENTION=87601h", false}, {"CRMHOST_AUDIT_RETENTION=-1h", false},
		{"CRMHOST_AUDIT_RETENTION=90 days", false},
		{"CRMHOST_PRUNE_BATCH=1", true}, {"CRMHOST_PRUNE_BATCH=100000", true},
		{"CRMHOST_PRUNE_BATCH=0", false}, {"CRMHOST_PRUNE_BATCH=100001", false}, {"CRMHOST_PRUNE_BATCH=many", false},
		{"CRMHOST_DEK_CACHE_SIZE=0", true}, {"CRMHOST_DEK_CACHE_SIZE=20000", true},
		{"CRMHOST_DEK_CACHE_SIZE=-1", false}, {"CRMHOST_DEK_CACHE_SIZE=1000001", false}, {"CRMHOST_DEK_CACHE_SIZE=lots", false},
	} {
		t.Run(tc.env, func(t *testing.T) {
			c := newCLI(t)
			c.env = []string{tc.env}
			if tc.ok {
				c.ok("tenant", "list")
				return
			}
			name, _, _ := strings.Cut(tc.env, "=")
			_, errOut, code := c.run("tenant", "list")
			if code != 1 || !strings.Contains(errOut, name) {
				t.Errorf("crmhost tenant list with %s: exit %d, %q; want a refusal naming %s", tc.env, code, errOut, name)
			}
		})
	}
}
