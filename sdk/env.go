package sdk

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Drivers are untrusted code: a driver process starts with an empty
// environment plus the variables named here, never the host's whole
// environment (which holds the credential key, database and Redis URLs,
// token secrets and cloud credentials). go-plugin adds its own handshake
// variables (CRMHOST_DRIVER_PLUGIN, PLUGIN_MIN_PORT, PLUGIN_MAX_PORT,
// PLUGIN_PROTOCOL_VERSIONS, PLUGIN_CLIENT_CERT), none of them a host
// secret.

// BaseDriverEnv are the host variables every driver inherits when set:
// the executable search path, the time zone and where the system's CA
// certificates and temporary files are.
var BaseDriverEnv = []string{"PATH", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR", "TMPDIR"}

// ProxyDriverEnv are the proxy settings an operator may pass to drivers
// (ClientOptions.ExtraEnv, CRMHOST_DRIVER_ENV); they are not passed unless
// named.
var ProxyDriverEnv = []string{"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy"}

// hostOnlyPrefixes and hostOnlyNames are variables no driver may inherit,
// even when an operator names them: the host's own configuration and
// secrets, database and cache URLs, cloud credentials, and the host's
// OpenTelemetry settings (exporter headers often hold an API key; the
// exporter settings a driver may have go through TraceEnv).
var (
	hostOnlyPrefixes = []string{"CRM_", "CRMHOST_", "AWS_", "GOOGLE_", "AZURE_", "PG", "REDIS", "OTEL_"}
	hostOnlyNames    = []string{"DATABASE_URL"}
)

// HostOnlyEnv reports whether the variable name may never reach a driver
// (CRM_*, CRMHOST_*, AWS_*, GOOGLE_*, AZURE_*, PG*, REDIS*, OTEL_*,
// DATABASE_URL); see TraceEnv for the exporter settings drivers get.
func HostOnlyEnv(name string) bool {
	up := strings.ToUpper(name)
	if slices.Contains(hostOnlyNames, up) {
		return true
	}
	for _, p := range hostOnlyPrefixes {
		if strings.HasPrefix(up, p) {
			return true
		}
	}
	return false
}

// ValidateDriverEnv checks names an operator wants passed to drivers in
// addition to BaseDriverEnv: each must be a plain variable name and not
// HostOnlyEnv. Errors name the offending variable.
func ValidateDriverEnv(names []string) error {
	for _, n := range names {
		switch {
		case n == "" || strings.ContainsAny(n, "= \t\n\x00"):
			return fmt.Errorf("%q is not an environment variable name", n)
		case HostOnlyEnv(n):
			return fmt.Errorf("%s belongs to the host and is never passed to a driver", n)
		}
	}
	return nil
}

// DriverEnv returns the environment a driver process starts with, taken
// from environ (os.Environ() form): the BaseDriverEnv variables and the
// extra names that are set, in environ's order, never a HostOnlyEnv one.
func DriverEnv(environ, extra []string) []string {
	out := []string{}
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || HostOnlyEnv(name) {
			continue
		}
		if slices.Contains(BaseDriverEnv, name) || slices.Contains(extra, name) {
			out = append(out, kv)
		}
	}
	return out
}

// hostDriverEnv is DriverEnv over this process's environment.
func hostDriverEnv(extra []string) []string { return DriverEnv(os.Environ(), extra) }
