package http

import (
	"html/template"
	nethttp "net/http"
	"net/url"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/oauth"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
)

// startOAuth starts connecting a tenant through the provider's sign-in:
// the answer's authorize_url is where the operator's (or customer's)
// browser goes next; the provider then calls back /oauth/callback.
func (s *Server) startOAuth(c *gin.Context) {
	var in struct {
		Provider    string            `json:"provider"`
		Credentials map[string]string `json:"credentials"`
		ReturnTo    string            `json:"return_to"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	if in.ReturnTo != "" {
		if u, err := url.Parse(in.ReturnTo); err != nil || !(u.IsAbs() && (u.Scheme == "https" || u.Scheme == "http") || strings.HasPrefix(in.ReturnTo, "/") && !strings.HasPrefix(in.ReturnTo, "//")) {
			fail(c, invalid("return_to", "must be an absolute http(s) URL or a path on this host"))
			return
		}
	}
	out, err := s.cfg.Broker.StartOAuth(reqCtx(c), operatorActor(c), c.Param("tenant_id"), broker.OAuthStart{Provider: in.Provider,
		Credentials: in.Credentials, RedirectURI: oauth.CallbackURL(s.baseURL(c.Request)), ReturnTo: in.ReturnTo})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

// baseURL is the host's public base URL: CRMHOST_PUBLIC_URL, or the
// request's scheme and host.
func (s *Server) baseURL(r *nethttp.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// callbackPage is the page the provider's redirect lands on: what
// happened, in words an operator on a call with the customer can use.
var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}h1{font-size:1.4rem}.ok{color:#0a6b2f}.bad{color:#a3161b}code{background:#f3f3f3;padding:0 .2rem}</style>
</head><body>
<h1 class="{{if .OK}}ok{{else}}bad{{end}}">{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Detail}}<p><small>{{.Detail}}</small></p>{{end}}
{{if .ReturnTo}}<p><a href="{{.ReturnTo}}">Back</a></p>{{end}}
</body></html>
`))

type callbackView struct {
	OK                     bool
	Title, Message, Detail string
	ReturnTo               string
}

// oauthCallback finishes a connect flow. It answers a page, never JSON:
// an operator's browser is here. With a return address set when the flow
// started, a success redirects back to it (status=connected or failed).
func (s *Server) oauthCallback(c *gin.Context) {
	q := c.Request.URL.Query()
	res, err := s.cfg.Broker.CompleteOAuth(reqCtx(c), requestID(c), broker.OAuthCallback{State: q.Get("state"), Code: q.Get("code"),
		Error: q.Get("error"), Description: q.Get("error_description")})
	v := callbackView{ReturnTo: res.ReturnTo}
	status := nethttp.StatusOK
	switch {
	case err != nil:
		status = nethttp.StatusBadRequest
		if c := host.CodeOf(err); c == host.CodeInternal || c == host.CodeDriverUnavailable {
			status = nethttp.StatusBadGateway
		}
		v.Title = "The CRM was not connected"
		v.Message = callbackMessage(err)
		v.Detail = "Nothing was stored. Start the connection again from the host (request " + requestID(c) + ")."
		if host.CodeOf(err) == host.CodeInternal {
			s.log.Error("oauth callback", "request_id", requestID(c), "error", err)
		}
	case !res.Test.OK:
		v.Title = "Signed in, but the CRM connection test failed"
		v.Message = res.Test.Reason
		v.Detail = "The connection is stored and marked failed; test it again once the problem is fixed."
	default:
		v.OK = true
		v.Title = "CRM connected"
		v.Message = "The " + res.Provider + " connection is active."
		if res.Connection.AccountID != "" {
			v.Detail = "Provider account " + res.Connection.AccountID + "."
		}
	}
	// With a return address (the flow's state was read), the browser goes
	// back there, failures included, with the reason in words.
	if v.ReturnTo != "" && res.TenantID != "" {
		if u, perr := url.Parse(v.ReturnTo); perr == nil {
			qs := u.Query()
			qs.Set("tenant", res.TenantID)
			qs.Set("status", map[bool]string{true: "connected", false: "failed"}[v.OK])
			if !v.OK {
				qs.Set("reason", redact(v.Message))
			}
			u.RawQuery = qs.Encode()
			c.Redirect(nethttp.StatusSeeOther, u.String())
			return
		}
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := callbackPage.Execute(c.Writer, v); err != nil {
		s.log.Error("render oauth callback page", "error", err)
	}
}

// callbackMessage is an error's message for a person.
func callbackMessage(err error) string {
	if he, ok := err.(*host.Error); ok && he.Code != host.CodeInternal {
		return he.Message
	}
	if e := sdk.AsError(err); e.Code == sdk.CodeAuth || e.Code == sdk.CodeInvalid {
		return "The provider did not accept the sign-in: " + e.Message
	}
	return "The host could not finish the sign-in; the request id below locates the details in its log."
}
