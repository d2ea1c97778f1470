package console

import "net/http"

// page is one entry of the console: its nav label ("" keeps it out of
// the nav), its path under the prefix, and the function registering its
// routes. The nav is built from this table in order.
type page struct {
	label  string
	path   string
	routes func(c *Console, mux *http.ServeMux)
}

// pages is the console's page registry. Adding a page: a template, a Go
// file with its routes function, and one line here (see doc.go).
var pages = []page{
	{"Tenants", "/", (*Console).tenantRoutes},
	{"", "/tenants/{id}/connect", (*Console).connectRoutes},
	{"", "/tenants/{id}/mappings", (*Console).mappingRoutes},
	{"", "/tenants/{id}/keys", (*Console).keyRoutes},
	{"", "/tenants/{id}/sync", (*Console).syncRoutes},
	{"", "/tenants/{id}/deliveries", (*Console).deliveryRoutes},
	{"", "/tenants/{id}/rules", (*Console).ruleRoutes},
	{"", "/tenants/{id}/consent", (*Console).consentRoutes},
	{"", "/tenants/{id}/outbound", (*Console).settingsRoutes},
	{"Incidents", "/incidents", (*Console).incidentRoutes},
	{"Audit", "/audit", (*Console).auditRoutes},
	{"Drivers", "/drivers", (*Console).driverRoutes},
}

// tab is one tab of a tenant's pages.
type tab struct{ Label, Path string }

// tenantTabs are the tabs every tenant page shows, in order; a feature
// with a per-tenant page adds its tab here.
var tenantTabs = []tab{
	{"Overview", ""},
	{"Connect", "/connect"},
	{"Mappings", "/mappings"},
	{"API keys", "/keys"},
	{"Sync", "/sync"},
	{"Deliveries", "/deliveries"},
	{"Trigger rules", "/rules"},
	{"Consent", "/consent"},
	{"Outbound", "/outbound"},
	{"Audit", "/audit"},
}
