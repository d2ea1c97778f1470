package console

import (
	"net/http"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/outbound"
)

// A tenant's outbound settings: the tenant-wide kill switch, the seller's
// legal name (consent must name it) and the platform's callback URL for
// signed call requests. The signing secret is shown once, when it is
// made (the first save, or a rotation), and never again.

func (c *Console) settingsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/outbound", c.settingsPage)
	mux.HandleFunc("POST /tenants/{id}/outbound", c.saveSettings)
}

type settingsView struct {
	Tenant    host.Tenant
	Tabs      []tab
	Settings  host.OutboundSettings
	HasSecret bool
	Secret    string // shown once
	Saved     bool
	Problem   *problem
	ReadOnly  bool
	RuleSet   string
}

func (c *Console) settingsView(r *http.Request) (settingsView, error) {
	t, err := c.o.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		return settingsView{}, err
	}
	s, err := c.o.Store.GetOutboundSettings(r.Context(), t.ID)
	if host.CodeOf(err) == host.CodeNotFound {
		s, err = host.OutboundSettings{TenantID: t.ID}, nil
	}
	if err != nil {
		return settingsView{}, err
	}
	v := settingsView{Tenant: t, Tabs: tenantTabs, Settings: s, HasSecret: len(s.SecretCiphertext) > 0, ReadOnly: c.o.Outbound == nil}
	if c.o.Outbound != nil {
		v.RuleSet = c.o.Outbound.RuleSetVersion()
	}
	return v, nil
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.settingsView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "outbound", v)
}

var settingsLabels = map[string]string{"seller_name": "Seller's legal name", "callback_url": "Callback URL"}

// saveSettings stores the settings (audited by the outbound service); a
// refusal shows the form again as typed, with nothing saved.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request) {
	if c.o.Outbound == nil {
		c.fail(w, r, notConfigured("Outbound calling"))
		return
	}
	v, err := c.settingsView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	in := outbound.SettingsInput{Enabled: r.PostFormValue("enabled") != "", SellerName: strings.TrimSpace(r.PostFormValue("seller_name")),
		CallbackURL: strings.TrimSpace(r.PostFormValue("callback_url")), RotateSecret: r.PostFormValue("rotate_secret") != ""}
	s, secret, err := c.o.Outbound.PutSettings(r.Context(), actor(r), v.Tenant.ID, in)
	if err != nil {
		v.Settings.Enabled, v.Settings.SellerName, v.Settings.CallbackURL = in.Enabled, in.SellerName, in.CallbackURL
		v.Problem = formProblem(r, err, settingsLabels)
		status, ok := statusOf[host.CodeOf(err)]
		if !ok {
			status = http.StatusInternalServerError
			c.log.Error("console", "path", r.URL.Path, "request_id", v.Problem.RequestID, "error", err)
		}
		w.WriteHeader(status)
		c.render(w, r, "outbound", v)
		return
	}
	v.Settings, v.HasSecret, v.Secret, v.Saved = s, true, secret, true
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, "outbound", v)
}
