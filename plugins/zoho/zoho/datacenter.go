package zoho

import (
	"net/url"
	"strings"

	"crmhost.dev/sdk"
)

// dataCentre is one of Zoho's data centres: where its users sign in (the
// accounts server, which issues and refreshes tokens), where its CRM API
// lives, and where its CRM web app shows records.
type dataCentre struct {
	code     string // us, eu, in, au, jp, cn, sa, ca, uk
	accounts string // https://accounts.zoho.com
	api      string // https://www.zohoapis.com
	web      string // https://crm.zoho.com
}

// dataCentres are Zoho's data centres. Canada's accounts server is
// accounts.zohocloud.ca, not accounts.zoho.ca. The UK data centre's hosts
// follow Zoho's pattern (accounts.zoho.uk, www.zohoapis.uk) but were not
// confirmed from a spec (see the README).
var dataCentres = []dataCentre{
	{"us", "https://accounts.zoho.com", "https://www.zohoapis.com", "https://crm.zoho.com"},
	{"eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu", "https://crm.zoho.eu"},
	{"in", "https://accounts.zoho.in", "https://www.zohoapis.in", "https://crm.zoho.in"},
	{"au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au", "https://crm.zoho.com.au"},
	{"jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp", "https://crm.zoho.jp"},
	{"cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn", "https://crm.zoho.com.cn"},
	{"sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa", "https://crm.zoho.sa"},
	{"ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca", "https://crm.zohocloud.ca"},
	{"uk", "https://accounts.zoho.uk", "https://www.zohoapis.uk", "https://crm.zoho.uk"},
}

// DefaultAccountsServer is the US data centre's accounts server, the
// default of the accounts_server config key.
const DefaultAccountsServer = "https://accounts.zoho.com"

// accountsServers lists the accounts servers, for the connect form's
// options and error messages.
func accountsServers() []string {
	out := make([]string, 0, len(dataCentres))
	for _, dc := range dataCentres {
		out = append(out, dc.accounts)
	}
	return out
}

// origin normalises a URL to scheme://host (lower case, no path, no
// trailing slash) for comparisons; "" when raw is not an absolute URL.
func origin(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// overridden reports whether the connection points the driver somewhere
// other than Zoho's own hosts (base_url set: a proxy, or a fake in
// development and tests). Only then are accounts servers and API domains
// outside Zoho's data centres accepted.
func overridden(conn sdk.Connection) bool {
	return strings.TrimSpace(conn.Config[sdk.ConfigBaseURL]) != ""
}

// centreOf returns the data centre of the connection's accounts server
// (the US one when unset). Errors: CodeInvalid naming
// config.accounts_server for a server that is no Zoho data centre's,
// unless the connection overrides base_url, in which case the server is
// used as given (dc is then zero).
func centreOf(conn sdk.Connection) (dataCentre, string, error) {
	raw := conn.Get(configAccountsServer, DefaultAccountsServer)
	o := origin(raw)
	for _, dc := range dataCentres {
		if o == dc.accounts {
			return dc, dc.accounts, nil
		}
	}
	if overridden(conn) && o != "" {
		return dataCentre{}, strings.TrimRight(strings.TrimSpace(raw), "/"), nil
	}
	return dataCentre{}, "", sdk.Invalid("config."+configAccountsServer,
		"%q is not the accounts server of a Zoho data centre; choose the one your Zoho account signs in at: %s",
		raw, strings.Join(accountsServers(), ", "))
}

// checkAPIDomain checks the api_domain a token response names: it must be
// the CRM API of a Zoho data centre (so a forged or garbled token
// response cannot point the driver anywhere else), unless the connection
// overrides base_url. Errors: CodeAuth naming what Zoho answered (the
// token response is not usable).
func checkAPIDomain(conn sdk.Connection, domain string) (string, error) {
	o := origin(domain)
	if o == "" {
		return "", sdk.Errorf(sdk.CodeAuth, "Zoho's token response has no usable api_domain (got %q): the exchange cannot be completed", truncate(domain))
	}
	if overridden(conn) {
		return o, nil
	}
	for _, dc := range dataCentres {
		if o == dc.api {
			return o, nil
		}
	}
	return "", sdk.Errorf(sdk.CodeAuth, "Zoho's token response names api_domain %q, which is not the CRM API of a Zoho data centre", truncate(domain))
}

// apiBase is the connection's CRM API origin: base_url when set, else the
// api_domain Zoho named at authorization, else its data centre's. Errors:
// those of centreOf, and CodeInvalid naming config.api_domain when the
// stored api_domain is not a Zoho data centre's CRM API.
func apiBase(conn sdk.Connection) (string, error) {
	if b := strings.TrimSpace(conn.Config[sdk.ConfigBaseURL]); b != "" {
		return strings.TrimRight(b, "/"), nil
	}
	if d := strings.TrimSpace(conn.Config[configAPIDomain]); d != "" {
		o := origin(d)
		for _, dc := range dataCentres {
			if o == dc.api {
				return o, nil
			}
		}
		return "", sdk.Invalid("config."+configAPIDomain, "%q is not the CRM API of a Zoho data centre (want e.g. https://www.zohoapis.eu)", d)
	}
	dc, _, err := centreOf(conn)
	if err != nil {
		return "", err
	}
	return dc.api, nil
}
