package zoho_test

import (
	"testing"

	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

// TestDataCentres: each data centre's accounts server renders the OAuth
// URLs, picks the CRM API and the web app for record links; Canada's
// accounts server is zohocloud.ca.
func TestDataCentres(t *testing.T) {
	desc, _ := zoho.New().Describe(bg(t))
	tests := []struct{ accounts, api, web string }{
		{"https://accounts.zoho.com", "https://www.zohoapis.com", "https://crm.zoho.com"},
		{"https://accounts.zoho.eu", "https://www.zohoapis.eu", "https://crm.zoho.eu"},
		{"https://accounts.zoho.in", "https://www.zohoapis.in", "https://crm.zoho.in"},
		{"https://accounts.zoho.com.au", "https://www.zohoapis.com.au", "https://crm.zoho.com.au"},
		{"https://accounts.zoho.jp", "https://www.zohoapis.jp", "https://crm.zoho.jp"},
		{"https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn", "https://crm.zoho.com.cn"},
		{"https://accounts.zoho.sa", "https://www.zohoapis.sa", "https://crm.zoho.sa"},
		{"https://accounts.zohocloud.ca", "https://www.zohoapis.ca", "https://crm.zohocloud.ca"},
		{"https://accounts.zoho.uk", "https://www.zohoapis.uk", "https://crm.zoho.uk"},
	}
	for _, tc := range tests {
		t.Run(tc.accounts, func(t *testing.T) {
			config := map[string]string{"accounts_server": tc.accounts}
			for tmpl, want := range map[string]string{desc.Auth.AuthorizeURL: tc.accounts + "/oauth/v2/auth", desc.Auth.TokenURL: tc.accounts + "/oauth/v2/token"} {
				if got, err := sdk.RenderURL(tmpl, config); err != nil || got != want {
					t.Errorf("RenderURL(%q) = %q, %v; want %q", tmpl, got, err, want)
				}
			}
			conn := sdk.Connection{Config: config}
			if got, err := zoho.APIBase(conn); err != nil || got != tc.api {
				t.Errorf("API base = %q, %v; want %q", got, err, tc.api)
			}
			conn.Config["org_domain"] = "org42"
			if got, want := zoho.RecordURL(conn, "Leads", "7"), tc.web+"/crm/org42/tab/Leads/7"; got != want {
				t.Errorf("record URL %q, want %q", got, want)
			}
		})
	}
	for _, bad := range []string{"https://accounts.zoho.ca", "https://accounts.zoho.xx", "http://accounts.zoho.com.evil.example", "not a url"} {
		_, err := zoho.APIBase(sdk.Connection{Config: map[string]string{"accounts_server": bad}})
		wantCode(t, err, sdk.CodeInvalid, "config.accounts_server")
	}
}
