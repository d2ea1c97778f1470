package genericrest_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestSSRF is the SSRF matrix through the driver, over a real plugin
// connection: a definition's base_url, a connection's base_url override,
// an absolute token endpoint and an OpenAPI document pointing at
// loopback, private, link-local, metadata or IPv4-mapped addresses, a
// host name resolving to one, or an API redirecting to one, are refused
// at connect (TestConnection) and at call time (a lookup), with an error
// naming the setting and saying why, naming neither address nor port. The
// calls carry no egress allowlist, as for a real tenant; the guard refuses
// before any connection is made.
func TestSSRF(t *testing.T) {
	api := fake.New(t, fake.Options{})
	redirect := func(to string) string {
		srv := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	d := genericrest.NewWithOptions(genericrest.Options{Resolver: fakeDNS(map[string][]netip.Addr{
		"crm.private.test":  {netip.MustParseAddr("10.1.2.3")},
		"crm.metadata.test": {netip.MustParseAddr("169.254.169.254")},
		"crm.mapped.test":   {netip.MustParseAddr("::ffff:127.0.0.1")},
	})})
	cl := drivertest.Serve(t, d)
	cases := []struct {
		name, url, why string
	}{
		{"127.0.0.1", api.URL, "loopback"},
		{"::1", "http://[::1]:8080", "loopback"},
		{"::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]:8080", "loopback"},
		{"10/8", "http://10.0.0.7", "private"},
		{"172.16/12", "https://172.20.1.1", "private"},
		{"192.168/16", "http://192.168.1.10:8443", "private"},
		{"169.254.169.254", "http://169.254.169.254", "metadata"},
		{"100.64/10", "http://100.64.0.1", "carrier-grade NAT"},
		{"name resolving to 10/8", "https://crm.private.test", "private"},
		{"name resolving to metadata", "http://crm.metadata.test", "metadata"},
		{"name resolving to ::ffff:127.0.0.1", "http://crm.mapped.test:9", "loopback"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := strings.Replace(fake.DefinitionWith(fake.AuthAPIKeyHeader), "https://api.samplecrm.example", c.url, 1)
			inDefinition := sdk.Connection{Config: map[string]string{"definition": def}, Secret: map[string]string{"api_key": "sk_x_123456"}}
			inConfig := api.ConnectionWith(fake.AuthAPIKeyHeader, 0)
			inConfig.Config["base_url"] = c.url
			for _, tc := range []struct {
				how   string
				conn  sdk.Connection
				field string
			}{{"definition base_url", inDefinition, "definition.base_url"}, {"config base_url", inConfig, "config.base_url"}} {
				_, err := cl.TestConnection(public(t), tc.conn)
				e := wantErr(t, err, sdk.CodeInvalid, tc.field, "not allowed", c.why)
				if strings.Contains(e.Message, strings.Trim(strings.TrimPrefix(strings.TrimPrefix(c.url, "http://"), "https://"), "[]")) {
					t.Errorf("%s: the message names the address: %q", tc.how, e.Message)
				}
				_, err = cl.LookupCustomer(public(t), tc.conn, sdk.LookupQuery{Email: "ada@example.com", Objects: []string{"contacts"}})
				wantErr(t, err, sdk.CodeInvalid, tc.field, "not allowed", c.why)
			}
		})
	}
	t.Run("redirects", func(t *testing.T) {
		for _, to := range []string{"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/v1/me", "http://127.0.0.1:1/v1/me"} {
			conn := api.ConnectionWith(fake.AuthAPIKeyHeader, 0)
			conn.Config["base_url"] = redirect(to)
			_, err := cl.TestConnection(ctx(t), conn) // the redirecting server itself is allowed
			e := wantErr(t, err, sdk.CodeUnavailable, "", "302")
			if strings.Contains(e.Message, "169.254") || strings.Contains(e.Message, "10.0.0.1") {
				t.Errorf("message names the redirect's target: %q", e.Message)
			}
		}
	})
	t.Run("token_url", func(t *testing.T) {
		def := strings.Replace(fake.Definition, "token_url: /oauth/token", "token_url: http://169.254.169.254/oauth/token", 1)
		conn := api.Connection()
		conn.Config["definition"] = def
		_, err := cl.TestConnection(ctx(t), conn)
		wantErr(t, err, sdk.CodeInvalid, "definition.auth.token_url", "not allowed", "metadata")
	})
	t.Run("openapi_url", func(t *testing.T) {
		def := strings.Replace(fake.DefinitionWith(fake.AuthAPIKeyHeader), "openapi_url: /openapi.json", "openapi_url: http://192.168.0.1/openapi.json", 1)
		conn := api.ConnectionWith(fake.AuthAPIKeyHeader, 0)
		conn.Config["definition"] = def
		_, err := cl.DescribeObject(ctx(t), conn, "contacts")
		wantErr(t, err, sdk.CodeInvalid, "definition.openapi_url", "not allowed", "private")
	})
	t.Run("allowed with the host's allowlist", func(t *testing.T) {
		r, err := cl.TestConnection(ctx(t), api.ConnectionWith(fake.AuthAPIKeyHeader, 0))
		if err != nil || !r.OK {
			t.Fatalf("TestConnection with the loopback allowlist = %+v, %v", r, err)
		}
	})
}
