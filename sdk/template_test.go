package sdk_test

import (
	"testing"

	"crmhost.dev/sdk"
)

// TestRenderURL: templates render with config values made of URL-safe
// characters only; a missing value, a value that could add a query, a
// fragment, userinfo or whitespace, and a template that does not render
// to an absolute http(s) URL are invalid, naming the config key or the
// template.
func TestRenderURL(t *testing.T) {
	zoho := "https://accounts.zoho.{{.dc}}/oauth/v2/auth"
	salesforce := "{{.login_url}}/services/oauth2/authorize"
	for _, tc := range []struct {
		name     string
		template string
		config   map[string]string
		want     string
		field    string // of the invalid error; "" when it renders
	}{
		{"zoho data centre", zoho, map[string]string{"dc": "eu"}, "https://accounts.zoho.eu/oauth/v2/auth", ""},
		{"zoho two-part domain", zoho, map[string]string{"dc": "com.au"}, "https://accounts.zoho.com.au/oauth/v2/auth", ""},
		{"salesforce production", salesforce, map[string]string{"login_url": "https://login.salesforce.com"}, "https://login.salesforce.com/services/oauth2/authorize", ""},
		{"salesforce sandbox", salesforce, map[string]string{"login_url": "https://test.salesforce.com"}, "https://test.salesforce.com/services/oauth2/authorize", ""},
		{"salesforce my domain", salesforce, map[string]string{"login_url": "https://acme--uat.sandbox.my.salesforce.com"}, "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/authorize", ""},
		{"spaces inside the braces", "https://{{ .host }}:8443/token", map[string]string{"host": "crm.example.com"}, "https://crm.example.com:8443/token", ""},
		{"no placeholders", "https://api.hubapi.com/oauth/v1/token", nil, "https://api.hubapi.com/oauth/v1/token", ""},
		{"two placeholders", "https://{{.sub}}.example.com/{{.tenant}}/auth", map[string]string{"sub": "eu", "tenant": "t-1"}, "https://eu.example.com/t-1/auth", ""},

		{"missing value", zoho, map[string]string{}, "", "config.dc"},
		{"empty value", zoho, map[string]string{"dc": ""}, "", "config.dc"},
		{"query injection", zoho, map[string]string{"dc": "eu/x?redirect_uri=https://evil.example"}, "", "config.dc"},
		{"parameter injection", "https://x.example/auth?dc={{.dc}}", map[string]string{"dc": "eu&client_id=evil"}, "", "config.dc"},
		{"fragment in a value", zoho, map[string]string{"dc": "eu#x"}, "", "config.dc"},
		{"userinfo in a value", salesforce, map[string]string{"login_url": "https://user:pw@login.salesforce.com"}, "", "config.login_url"},
		{"host swap through userinfo", "https://{{.dc}}.example.com/auth", map[string]string{"dc": "evil.example@x"}, "", "config.dc"},
		{"whitespace", zoho, map[string]string{"dc": "eu com"}, "", "config.dc"},
		{"newline", zoho, map[string]string{"dc": "eu\r\nX-Injected: 1"}, "", "config.dc"},
		{"percent encoding", zoho, map[string]string{"dc": "eu%2F..%2F"}, "", "config.dc"},
		{"javascript scheme", salesforce, map[string]string{"login_url": "javascript:alert(1)//"}, "", "config.login_url"},
		{"file scheme", salesforce, map[string]string{"login_url": "file:/etc/passwd"}, "", "template"},
		{"relative result", salesforce, map[string]string{"login_url": "login.salesforce.com"}, "", "template"},
		{"userinfo in the template", "https://user:pw@accounts.zoho.{{.dc}}/auth", map[string]string{"dc": "eu"}, "", "template"},
		{"fragment in the template", "https://accounts.zoho.{{.dc}}/auth#top", map[string]string{"dc": "eu"}, "", "template"},
		{"unclosed placeholder", "https://accounts.zoho.{{.dc/auth", map[string]string{"dc": "eu"}, "", "template"},
		{"placeholder without a dot", "https://accounts.zoho.{{dc}}/auth", map[string]string{"dc": "eu"}, "", "template"},
		{"template action", "https://x.example/{{if .dc}}a{{end}}", map[string]string{"dc": "eu"}, "", "template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sdk.RenderURL(tc.template, tc.config)
			if tc.field == "" {
				if err != nil || got != tc.want {
					t.Fatalf("RenderURL = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeInvalid || e.Field != tc.field || got != "" {
				t.Fatalf("RenderURL = %q, %v; want invalid naming %s", got, err, tc.field)
			}
		})
	}
}
