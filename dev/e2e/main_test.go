package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"crmhost.dev/dev"
)

// pluginDirEnv names the folder of built driver binaries.
const pluginDirEnv = "CRMHOST_PLUGIN_DIR"

// The drivers the tests launch.
var hubspotBinary, tekmetricBinary, toastBinary, athenaBinary, zohoBinary, webhookBinary string

// drivers are the slugs TestMain builds when pluginDirEnv is unset.
var builtDrivers = []string{"hubspot", "tekmetric", "toast", "athena", "zoho", "webhook", "mindbody", "salesforce", "genericrest"}

// pluginDir is the folder of driver binaries the tests use.
var pluginDir string

// driverBinary is slug's driver in pluginDir; an error when it is absent.
func driverBinary(slug string) (string, error) {
	bin := dev.DriverBinary(pluginDir, slug)
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%w (%s=%s; run make plugins)", err, pluginDirEnv, pluginDir)
	}
	return bin, nil
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir := os.Getenv(pluginDirEnv)
	if dir == "" {
		tmp, err := os.MkdirTemp("", "crmhost-e2e-plugins")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
		for _, slug := range builtDrivers {
			bin := dev.DriverBinary(dir, slug)
			fmt.Fprintf(os.Stderr, "e2e: %s is not set; building %s\n", pluginDirEnv, bin)
			out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "crmhost.dev/plugins/"+slug).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "e2e: build crm-driver-%s: %v\n%s", slug, err, out)
				return 1
			}
		}
	}
	pluginDir = dir
	hubspotBinary, tekmetricBinary = dev.DriverBinary(dir, "hubspot"), dev.DriverBinary(dir, "tekmetric")
	toastBinary, athenaBinary = dev.DriverBinary(dir, "toast"), dev.DriverBinary(dir, "athena")
	zohoBinary, webhookBinary = dev.DriverBinary(dir, "zoho"), dev.DriverBinary(dir, "webhook")
	for _, bin := range []string{hubspotBinary, tekmetricBinary, toastBinary, athenaBinary, zohoBinary, webhookBinary} {
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v (%s=%s; run make plugins)\n", err, pluginDirEnv, dir)
			return 1
		}
	}
	return m.Run()
}
