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
