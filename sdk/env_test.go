package sdk_test

import (
	"os/exec"
	"slices"
	"strings"
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
	for _, bad := range []string{"", "A=B", "CRM_CREDENTIAL_ENCRYPTION_KEY", "crmhost_operator", "DATABASE_URL", "REDIS_URL", "AWS_ACCESS_KEY_ID", "PGPASSWORD",
		"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if err := sdk.ValidateDriverEnv([]string{bad}); err == nil {
			t.Errorf("ValidateDriverEnv(%q) = nil, want an error", bad)
		}
	}
}

func TestTraceEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"no endpoint, no tracing", []string{"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_BSP_SCHEDULE_DELAY=100"}, nil},
		{"exporter settings only, never headers, keys or resource attributes", []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS=x-api-key=secret",
			"OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-api-key=secret", "OTEL_EXPORTER_OTLP_CLIENT_KEY=/etc/key.pem",
			"OTEL_RESOURCE_ATTRIBUTES=deployment=prod", "OTEL_SERVICE_NAME=crmhost", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
			"OTEL_BSP_SCHEDULE_DELAY=100", "CRMHOST_JWT_HS256_SECRET=s", "PATH=/usr/bin",
		}, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_BSP_SCHEDULE_DELAY=100"}},
		{"gRPC host:port", []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=collector:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc"},
			[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=collector:4317", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc"}},
		{"an endpoint with credentials is never passed", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://user:pass@collector:4318"}, nil},
		{"an endpoint with a query is never passed", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://collector:4318/?token=secret"}, nil},
		{"an endpoint of another scheme is never passed", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=file:///etc/passwd"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, sdk.TraceEnv(tc.environ)); diff != "" {
				t.Errorf("TraceEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientConfigTraceEnv(t *testing.T) {
	cmd := exec.Command("/nonexistent/driver")
	sdk.NewClientConfig(cmd, sdk.ClientOptions{TraceEnv: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer secret", "CRMHOST_JWT_HS256_SECRET=s"}})
	if !slices.Contains(cmd.Env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318") {
		t.Errorf("driver environment %q lacks the OTLP endpoint", cmd.Env)
	}
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "OTEL_EXPORTER_OTLP_HEADERS") || strings.HasPrefix(kv, "CRMHOST_") {
			t.Errorf("driver environment holds %q", kv)
		}
	}
}
