package browser_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"crmhost.dev/dev"
)

// hubspotBinary and odooBinary are the drivers the tests launch: from
// CRMHOST_PLUGIN_DIR (make test builds them there), else built here.
var hubspotBinary, odooBinary string

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir := os.Getenv("CRMHOST_PLUGIN_DIR")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "crmhost-browser-plugins")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
		for _, slug := range []string{"hubspot", "odoo"} {
			out, err := exec.Command("go", "build", "-trimpath", "-o", dev.DriverBinary(dir, slug), "crmhost.dev/plugins/"+slug).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "browser: build crm-driver-%s: %v\n%s", slug, err, out)
				return 1
			}
		}
	}
	hubspotBinary, odooBinary = dev.DriverBinary(dir, "hubspot"), dev.DriverBinary(dir, "odoo")
	return m.Run()
}
