package console

import (
	"net/http"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
)

func (c *Console) keyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/keys", c.keysPage)
	mux.HandleFunc("POST /tenants/{id}/keys", c.createKey)
	mux.HandleFunc("POST /tenants/{id}/keys/{key}/revoke", c.revokeKey)
}

type keysView struct {
	Tenant  host.Tenant
	Tabs    []tab
	Keys    []apiKeyRow
	Scopes  []string
	Created string // the new key's text: shown once
	Problem *problem
}

type apiKeyRow struct {
	host.APIKey
	Shown string
}

// scopes a console-issued key may carry.
var scopes = []string{apikeys.ScopeCRMWrite, apikeys.ScopeCRMRead, apikeys.ScopeLeadsWrite}

func (c *Console) keysView(r *http.Request) (keysView, error) {
	t, err := c.o.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		return keysView{}, err
	}
	ks, err := c.o.Store.ListAPIKeys(r.Context(), t.ID)
	if err != nil {
		return keysView{}, err
	}
	v := keysView{Tenant: t, Tabs: tenantTabs, Scopes: scopes}
	for _, k := range ks {
		v.Keys = append(v.Keys, apiKeyRow{APIKey: k, Shown: apikeys.Shown(k)})
	}
	return v, nil
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.keysView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "keys", v)
}

// createKey issues a key (audited) and shows its text once.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_ = r.ParseForm()
	raw, k, err := c.keys.Issue(r.Context(), id, r.PostForm["scope"])
	v, verr := c.keysView(r)
	if verr != nil {
		c.fail(w, r, verr)
		return
	}
	if err != nil {
		v.Problem = problemOf(r, err)
		w.WriteHeader(http.StatusUnprocessableEntity)
		c.render(w, r, "keys", v)
		return
	}
	c.audit(r, id, "api_key.create", host.OutcomeOK, k.ID+" scopes "+strings.Join(k.Scopes, " "))
	v.Created = raw
	c.render(w, r, "keys", v)
}

func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	if err := c.o.Store.RevokeAPIKey(r.Context(), id, key, c.now().UTC()); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, id, "api_key.revoke", host.OutcomeOK, key)
	c.redirect(w, r, c.o.Prefix+"/tenants/"+id+"/keys")
}
