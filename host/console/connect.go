package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/oauth"
	"crmhost.dev/sdk"
)

func (c *Console) connectRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/connect", c.connectPage)
	mux.HandleFunc("POST /tenants/{id}/connect", c.connectSubmit)
	mux.HandleFunc("POST /tenants/{id}/connect/link", c.createLink)
}

// providerChoice is one driver of the catalog in the wizard's first step.
type providerChoice struct {
	Slug, Name, Version, Auth string
	Error                     string
}

// formField is a credential field with the value the form shows.
type formField struct {
	F     sdk.CredentialField
	Value string
	Keep  bool // a stored secret is kept when the field is left blank
}

type connectView struct {
	Tenant    host.Tenant
	Tabs      []tab
	Providers []providerChoice
	Driver    *sdk.Description
	OAuth     bool
	Reconnect bool
	Fields    []formField // shown
	Advanced  []formField // folded
	Secrets   []formField // the token alternative of an OAuth driver
	Problem   *problem
	Action    string // where the form posts
	Link      bool   // the customer's reconnect page
	Done      bool
}

// connectPage is the connect wizard: pick a provider from the catalog,
// then fill the form generated from its driver's credential schema.
func (c *Console) connectPage(w http.ResponseWriter, r *http.Request) {
	t, err := c.o.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := connectView{Tenant: t, Tabs: tenantTabs, Action: c.o.Prefix + "/tenants/" + t.ID + "/connect"}
	slug := r.URL.Query().Get("provider")
	if slug == "" {
		if v.Providers, err = c.catalog(r); err != nil {
			c.fail(w, r, err)
			return
		}
		c.render(w, r, "connect", v)
		return
	}
	if err := c.connectForm(r, &v, slug, nil); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "connect", v)
}

// catalog lists the registered drivers with what their Describe says.
func (c *Console) catalog(r *http.Request) ([]providerChoice, error) {
	ds, err := c.o.Store.ListDrivers(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]providerChoice, 0, len(ds))
	for _, d := range ds {
		pc := providerChoice{Slug: d.Slug, Name: d.Slug, Version: d.Version}
		if desc, err := c.o.Drivers.Describe(r.Context(), d.Slug); err != nil {
			pc.Error = problemOf(r, err).Message
		} else {
			pc.Name, pc.Auth = desc.DisplayName, authLabel(desc.Auth.Kind)
		}
		out = append(out, pc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func authLabel(kind string) string {
	switch kind {
	case sdk.AuthOAuth2Code:
		return "sign-in (OAuth)"
	case sdk.AuthClientCredentials:
		return "app credentials"
	}
	return "credentials form"
}

// connectForm fills v's form for provider slug: the tenant's current
// config when it is already connected to it (a reconnect in place: secrets
// left blank are kept), or the schema's defaults; sent overrides both (a
// form that failed is shown again as it was, secrets blank).
func (c *Console) connectForm(r *http.Request, v *connectView, slug string, sent map[string]string) error {
	desc, err := c.describe(r, slug)
	if err != nil {
		return err
	}
	v.Driver, v.OAuth = &desc, desc.Auth.Kind == sdk.AuthOAuth2Code
	var config map[string]string
	if conn, err := c.o.Store.GetConnection(r.Context(), v.Tenant.ID); err == nil && conn.Provider == desc.Slug {
		v.Reconnect, config = true, conn.Config
	}
	fields := desc.CredentialFields
	if !hasField(fields, sdk.ConfigBaseURL) {
		fields = append(fields, sdk.CredentialField{Name: sdk.ConfigBaseURL, Label: "API base URL", Type: "url", Advanced: true,
			Help: "Only to reach another instance than the provider's own (a sandbox, a test double)."})
	}
	for _, f := range fields {
		ff := formField{F: f, Value: f.Default}
		if v, ok := config[f.Name]; ok {
			ff.Value = v
		}
		if v, ok := sent[f.Name]; ok && !f.Secret {
			ff.Value = v
		}
		if f.Secret {
			ff.Value, ff.Keep = "", v.Reconnect
		}
		switch {
		case f.Secret && v.OAuth:
			v.Secrets = append(v.Secrets, ff)
		case f.Advanced:
			v.Advanced = append(v.Advanced, ff)
		default:
			v.Fields = append(v.Fields, ff)
		}
	}
	return nil
}

func hasField(fs []sdk.CredentialField, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

// describe describes a registered driver: an unregistered slug is the
// caller's mistake (not_found), never a launch.
func (c *Console) describe(r *http.Request, slug string) (sdk.Description, error) {
	if _, err := c.o.Store.GetDriver(r.Context(), c.o.Drivers.Resolve(slug)); err != nil {
		return sdk.Description{}, err
	}
	return c.o.Drivers.Describe(r.Context(), slug)
}

// formValues reads the credential form: the driver's fields (and the
// shared config keys) that are not blank. A blank secret of a reconnect
// keeps the stored one.
func formValues(r *http.Request, desc sdk.Description) map[string]string {
	out := map[string]string{}
	names := []string{sdk.ConfigBaseURL, sdk.ConfigDefaultRegion}
	for _, f := range desc.CredentialFields {
		names = append(names, f.Name)
	}
	for _, n := range names {
		if v := strings.TrimSpace(r.PostFormValue(n)); v != "" {
			out[n] = v
		}
	}
	return out
}

// connectSubmit connects (or reconnects) the tenant: an OAuth driver's
// sign-in starts (JSON for the popup, a redirect otherwise); a form is
// stored, authorized and tested by the broker, and only a passing test
// leaves it active. A failure shows the provider's reason on the form.
func (c *Console) connectSubmit(w http.ResponseWriter, r *http.Request) {
	t, err := c.o.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	slug := r.PostFormValue("provider")
	v := connectView{Tenant: t, Tabs: tenantTabs, Action: c.o.Prefix + "/tenants/" + t.ID + "/connect"}
	c.submit(w, r, &v, actor(r), slug, c.o.Prefix+"/tenants/"+t.ID)
}

// submit runs a connect form for v.Tenant as a, for the wizard and the
// reconnect link alike; done is where a success goes.
func (c *Console) submit(w http.ResponseWriter, r *http.Request, v *connectView, a broker.Actor, slug, done string) {
	desc, err := c.describe(r, slug)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	values := formValues(r, desc)
	if desc.Auth.Kind == sdk.AuthOAuth2Code && r.PostFormValue("mode") != "token" {
		c.startOAuth(w, r, v, a, desc, values)
		return
	}
	_, res, err := c.o.Broker.Connect(r.Context(), a, v.Tenant.ID, broker.ConnectInput{Provider: desc.Slug, Credentials: values})
	switch {
	case err != nil:
		v.Problem = problemOf(r, err)
	case !res.OK:
		v.Problem = &problem{Message: "The provider did not accept the connection: " + Redact(res.Reason), Code: "test_failed", RequestID: requestIDOf(r)}
	default:
		if v.Link {
			v.Done = true
			c.render(w, r, "reconnect", v)
			return
		}
		c.redirect(w, r, done+"?connected=1")
		return
	}
	if ferr := c.connectForm(r, v, desc.Slug, values); ferr != nil {
		c.fail(w, r, ferr)
		return
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	if v.Link {
		c.render(w, r, "reconnect", v)
		return
	}
	c.render(w, r, "connect", v)
}

// startOAuth starts the provider's sign-in with the form's non-secret
// fields. The popup (console.js) asks for JSON and opens authorize_url;
// without it the browser is redirected there and comes back to the done
// page.
func (c *Console) startOAuth(w http.ResponseWriter, r *http.Request, v *connectView, a broker.Actor, desc sdk.Description, values map[string]string) {
	popup := r.PostFormValue("popup") == "1"
	for _, f := range desc.CredentialFields {
		if f.Secret {
			delete(values, f.Name)
		}
	}
	ret := c.o.Prefix + "/oauth/done"
	switch {
	case popup:
		ret += "?popup=1"
	case v.Link:
		ret += "?link=1"
	}
	st, err := c.o.Broker.StartOAuth(r.Context(), a, v.Tenant.ID, broker.OAuthStart{Provider: desc.Slug, Credentials: values,
		RedirectURI: oauth.CallbackURL(c.baseURL(r)), ReturnTo: ret})
	if popup {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": problemOf(r, err)})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"authorize_url": st.URL, "expires_at": st.ExpiresAt})
		return
	}
	if err != nil {
		v.Problem = problemOf(r, err)
		if ferr := c.connectForm(r, v, desc.Slug, values); ferr != nil {
			c.fail(w, r, ferr)
			return
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		c.render(w, r, map[bool]string{true: "reconnect", false: "connect"}[v.Link], v)
		return
	}
	http.Redirect(w, r, st.URL, http.StatusSeeOther)
}

// baseURL is the host's public base URL: Options.PublicURL, or the
// request's scheme and host.
func (c *Console) baseURL(r *http.Request) string {
	if c.o.PublicURL != "" {
		return c.o.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type doneView struct {
	Popup, Link    bool
	Tenant, Status string
	Reason, Next   string
	OK             bool
}

// oauthDone is where the host's OAuth callback sends the browser back
// (return_to), with tenant, status and, on failure, reason. It needs no
// session: the provider's redirect arrives cross-site, without the
// SameSite=Strict cookie. In the popup, console.js posts the outcome to
// the opener (same origin only) and closes the window; the opener then
// shows the tenant as the host stored it.
func (c *Console) oauthDone(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := doneView{Popup: q.Get("popup") == "1", Link: q.Get("link") == "1", Tenant: q.Get("tenant"), Status: q.Get("status"), Reason: q.Get("reason")}
	if !strings.HasPrefix(v.Tenant, host.TenantIDPrefix) || strings.ContainsAny(v.Tenant, "/?#") {
		v.Tenant = ""
	}
	v.OK = v.Status == "connected"
	if v.Tenant != "" && !v.Link {
		v.Next = c.o.Prefix + "/tenants/" + url.PathEscape(v.Tenant)
		if v.OK {
			v.Next += "?connected=1"
		}
	}
	c.render(w, r, "oauthdone", v)
}

// link is what a reconnect link carries (sealed).
type link struct {
	Tenant   string `json:"t"`
	Provider string `json:"p"`
	By       string `json:"by"`
	Expires  int64  `json:"exp"`
}

// createLink makes a time-limited reconnect link for the tenant's current
// provider (audited).
func (c *Console) createLink(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	conn, err := c.o.Store.GetConnection(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	exp := c.now().Add(c.o.ReconnectTTL)
	tok, err := c.seal(r.Context(), "reconnect", link{Tenant: id, Provider: conn.Provider, By: operatorOf(r).Name, Expires: exp.Unix()})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, id, "console.reconnect_link", host.OutcomeOK, fmt.Sprintf("provider %s until %s", conn.Provider, exp.UTC().Format(time.RFC3339)))
	v, err := c.tenantView(r, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Link, v.LinkExpires = c.baseURL(r)+c.o.Prefix+"/reconnect/"+tok, exp.UTC().Format("2006-01-02 15:04 UTC")
	c.render(w, r, "tenant", v)
}

// openLink opens a reconnect link: it must be intact and unexpired.
func (c *Console) openLink(r *http.Request) (link, error) {
	var l link
	if err := c.open(r.Context(), "reconnect", r.PathValue("token"), &l); err != nil {
		return l, &host.Error{Code: host.CodeNotFound, Message: "This reconnect link is not valid. Ask your contact for a new one."}
	}
	if c.now().Unix() >= l.Expires {
		return l, &host.Error{Code: host.CodeNotFound, Message: "This reconnect link has expired. Ask your contact for a new one."}
	}
	return l, nil
}

// reconnectPage is the customer's page behind a reconnect link.
func (c *Console) reconnectPage(w http.ResponseWriter, r *http.Request) {
	v, _, err := c.linkView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "reconnect", v)
}

func (c *Console) linkView(r *http.Request) (connectView, link, error) {
	l, err := c.openLink(r)
	if err != nil {
		return connectView{}, l, err
	}
	t, err := c.o.Store.GetTenant(r.Context(), l.Tenant)
	if err != nil {
		return connectView{}, l, err
	}
	v := connectView{Tenant: t, Link: true, Action: c.o.Prefix + "/reconnect/" + r.PathValue("token")}
	if err := c.connectForm(r, &v, l.Provider, nil); err != nil {
		return v, l, err
	}
	return v, l, nil
}

// reconnectSubmit finishes a reconnect link: the provider's sign-in (a
// full-page redirect) or the credentials form, audited as the operator
// who made the link.
func (c *Console) reconnectSubmit(w http.ResponseWriter, r *http.Request) {
	v, l, err := c.linkView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Problem = nil
	v.Fields, v.Advanced, v.Secrets = nil, nil, nil
	a := broker.Actor{Type: host.ActorOperator, ID: l.By + " (reconnect link)", RequestID: requestIDOf(r)}
	c.submit(w, r, &v, a, l.Provider, "")
}
