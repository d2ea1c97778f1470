package console

import (
	"net/http"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/outbound"
)

// Consent: look up a phone's consent records and do-not-call state,
// record a consent, revoke (which lists the number on the internal
// do-not-call list). Phones travel in POST bodies only, never in URLs:
// they stay out of access logs, browser history and Referer headers.

func (c *Console) consentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/consent", c.consentPage)
	mux.HandleFunc("POST /tenants/{id}/consent/lookup", c.lookupConsent)
	mux.HandleFunc("POST /tenants/{id}/consent", c.recordConsent)
	mux.HandleFunc("POST /tenants/{id}/consent/revoke", c.revokeConsent)
}

// consentForm is the record form's input, shown again after a refusal.
type consentForm struct {
	SellerName, PersonName, CRMID, Phone string
	Purposes                             []string
	AIVoice, Written                     bool
	DisclosureText, DisclosureVersion    string
	Method, Source, URL, ConsentedAt     string
}

// lookup is a phone's consent and do-not-call state.
type lookup struct {
	Phone    string // E.164
	Consents []host.ConsentRecord
	DNC      *host.DNCEntry
	Scrub    *host.DNCScrub
	Usable   int // consents not revoked
}

type consentView struct {
	Tenant   host.Tenant
	Tabs     []tab
	Phone    string // the lookup form's value
	Lookup   *lookup
	Form     consentForm
	Methods  []string
	Recorded *host.ConsentRecord
	Revoked  bool
	RevokedN int // consent records the revocation applied to
	Problem  *problem
	ReadOnly bool
}

func (c *Console) consentView(r *http.Request) (consentView, error) {
	t, err := c.o.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		return consentView{}, err
	}
	v := consentView{Tenant: t, Tabs: tenantTabs, Methods: host.ConsentMethods, ReadOnly: c.o.Outbound == nil,
		Form: consentForm{Purposes: []string{string(host.PurposeInformational)}, AIVoice: true, Method: "web_form", Source: "first_party",
			ConsentedAt: c.now().UTC().Format(timeLayout)}}
	if s, err := c.o.Store.GetOutboundSettings(r.Context(), t.ID); err == nil {
		v.Form.SellerName = s.SellerName
	}
	return v, nil
}

func (c *Console) consentPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.consentView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "consent", v)
}

// lookupPhone gathers the phone's state (phone already E.164).
func (c *Console) lookupPhone(r *http.Request, tenant, phone string) (*lookup, error) {
	ctx := r.Context()
	l := &lookup{Phone: phone}
	var err error
	if l.Consents, err = c.o.Store.ListConsents(ctx, tenant, phone, 100); err != nil {
		return nil, err
	}
	for _, cr := range l.Consents {
		if !cr.Revoked() {
			l.Usable++
		}
	}
	switch e, err := c.o.Store.GetDNC(ctx, tenant, phone); {
	case err == nil:
		l.DNC = &e
	case host.CodeOf(err) != host.CodeNotFound:
		return nil, err
	}
	switch s, err := c.o.Store.GetDNCScrub(ctx, tenant, phone); {
	case err == nil:
		l.Scrub = &s
	case host.CodeOf(err) != host.CodeNotFound:
		return nil, err
	}
	return l, nil
}

// consentRefused shows the page again with the refusal.
func (c *Console) consentRefused(w http.ResponseWriter, r *http.Request, v consentView, err error) {
	v.Problem = formProblem(r, err, consentLabels)
	status, ok := statusOf[host.CodeOf(err)]
	if !ok {
		status = http.StatusInternalServerError
		c.log.Error("console", "path", r.URL.Path, "request_id", v.Problem.RequestID, "error", err)
	}
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	w.WriteHeader(status)
	c.render(w, r, "consent", v)
}

var consentLabels = map[string]string{"phone": "Phone", "seller_name": "Seller", "purposes": "Purposes", "disclosure_text": "Disclosure text",
	"disclosure_version": "Disclosure version", "method": "Method", "source": "Source", "consented_at": "Consented at", "channel": "Channel"}

// lookupConsent answers a phone's consent records and do-not-call state.
func (c *Console) lookupConsent(w http.ResponseWriter, r *http.Request) {
	v, err := c.consentView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	phone, err := outbound.NormalizePhone("phone", v.Phone)
	if err == nil {
		v.Lookup, err = c.lookupPhone(r, v.Tenant.ID, phone)
	}
	if err != nil {
		c.consentRefused(w, r, v, err)
		return
	}
	c.render(w, r, "consent", v)
}

// recordConsent stores a consent record (audited by the outbound
// service, without the phone) and shows the phone's state with it.
func (c *Console) recordConsent(w http.ResponseWriter, r *http.Request) {
	if c.o.Outbound == nil {
		c.fail(w, r, notConfigured("Outbound calling"))
		return
	}
	v, err := c.consentView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	_ = r.ParseForm()
	f := consentForm{SellerName: strings.TrimSpace(r.PostFormValue("seller_name")), PersonName: strings.TrimSpace(r.PostFormValue("person_name")),
		CRMID: strings.TrimSpace(r.PostFormValue("crm_id")), Phone: strings.TrimSpace(r.PostFormValue("phone")), Purposes: r.PostForm["purposes"],
		AIVoice: r.PostFormValue("ai_voice") != "", Written: r.PostFormValue("written") != "", DisclosureText: strings.TrimSpace(r.PostFormValue("disclosure_text")),
		DisclosureVersion: strings.TrimSpace(r.PostFormValue("disclosure_version")), Method: r.PostFormValue("method"),
		Source: strings.TrimSpace(r.PostFormValue("source")), URL: strings.TrimSpace(r.PostFormValue("url")), ConsentedAt: strings.TrimSpace(r.PostFormValue("consented_at"))}
	v.Form = f
	rec := host.ConsentRecord{TenantID: v.Tenant.ID, SellerName: f.SellerName, PersonName: f.PersonName, CRMID: f.CRMID, Phone: f.Phone,
		AIVoice: f.AIVoice, Written: f.Written, DisclosureText: f.DisclosureText, DisclosureVersion: f.DisclosureVersion, Method: f.Method,
		Source: f.Source, URL: f.URL}
	for _, p := range f.Purposes {
		rec.Purposes = append(rec.Purposes, host.CallPurpose(p))
	}
	var at time.Time
	if at, err = parseWhen(f.ConsentedAt); err != nil || at.IsZero() {
		err = &host.Error{Code: host.CodeInvalid, Field: "consented_at", Message: "must be a date and time such as 2026-01-02T15:04 (UTC)"}
	} else if at.After(c.now().Add(5 * time.Minute)) {
		err = &host.Error{Code: host.CodeInvalid, Field: "consented_at", Message: "is in the future"}
	}
	if err == nil {
		rec.ConsentedAt = at.UTC()
		var out host.ConsentRecord
		if out, err = c.o.Outbound.CreateConsent(r.Context(), actor(r), rec); err == nil {
			v.Recorded = &out
			v.Phone = out.Phone
			v.Lookup, err = c.lookupPhone(r, v.Tenant.ID, out.Phone)
		}
	}
	if err != nil {
		c.consentRefused(w, r, v, err)
		return
	}
	c.render(w, r, "consent", v)
}

// revokeConsent revokes every consent for the phone and lists it on the
// internal do-not-call list (audited by the outbound service).
func (c *Console) revokeConsent(w http.ResponseWriter, r *http.Request) {
	if c.o.Outbound == nil {
		c.fail(w, r, notConfigured("Outbound calling"))
		return
	}
	v, err := c.consentView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Phone = strings.TrimSpace(r.PostFormValue("phone"))
	out, err := c.o.Outbound.Revoke(r.Context(), actor(r), v.Tenant.ID, outbound.RevokeInput{Phone: v.Phone,
		Channel: strings.TrimSpace(r.PostFormValue("channel")), RawText: strings.TrimSpace(r.PostFormValue("raw_text"))})
	if err == nil {
		var phone string
		if phone, err = outbound.NormalizePhone("phone", v.Phone); err == nil {
			v.Lookup, err = c.lookupPhone(r, v.Tenant.ID, phone)
		}
	}
	if err != nil {
		c.consentRefused(w, r, v, err)
		return
	}
	v.Revoked, v.RevokedN = true, len(out)
	c.render(w, r, "consent", v)
}
