package sdk_test

import (
	"testing"

	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
)

func TestDriverEnv(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin", "HOME=/home/host", "TZ=UTC", "SSL_CERT_FILE=/etc/ca.pem",
		"CRM_CREDENTIAL_ENCRYPTION_KEY=k", "CRMHOST_JWT_HS256_SECRET=s", "DATABASE_URL=postgres://x",
		"REDIS_URL=redis://x", "AWS_SECRET_ACCESS_KEY=a", "PGPASSWORD=p", "HTTPS_PROXY=http://proxy:3128",
		"NO_PROXY=localhost", "GOOGLE_APPLICATION_CREDENTIALS=/k.json", "malformed",
	}
	tests := []struct {
		name  string
		extra []string
		want  []string
	}{
		{"base only", nil, []string{"PATH=/usr/bin", "TZ=UTC", "SSL_CERT_FILE=/etc/ca.pem"}},
		{"proxy opted in", sdk.ProxyDriverEnv, []string{"PATH=/usr/bin", "TZ=UTC", "SSL_CERT_FILE=/etc/ca.pem", "HTTPS_PROXY=http://proxy:3128", "NO_PROXY=localhost"}},
		{"host secrets never, even when named", []string{"DATABASE_URL", "CRMHOST_JWT_HS256_SECRET", "AWS_SECRET_ACCESS_KEY", "HOME"},
			[]string{"PATH=/usr/bin", "HOME=/home/host", "TZ=UTC", "SSL_CERT_FILE=/etc/ca.pem"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, sdk.DriverEnv(environ, tc.extra)); diff != "" {
				t.Errorf("DriverEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateDriverEnv(t *testing.T) {
	for _, ok := range [][]string{nil, sdk.ProxyDriverEnv, {"GODEBUG", "HOME"}} {
		if err := sdk.ValidateDriverEnv(ok); err != nil {
			t.Errorf("ValidateDriverEnv(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "A=B", "CRM_CREDENTIAL_ENCRYPTION_KEY", "crmhost_operator", "DATABASE_URL", "REDIS_URL", "AWS_ACCESS_KEY_ID", "PGPASSWORD"} {
		if err := sdk.ValidateDriverEnv([]string{bad}); err == nil {
			t.Errorf("ValidateDriverEnv(%q) = nil, want an error", bad)
		}
	}
}
