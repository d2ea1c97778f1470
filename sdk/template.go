package sdk

import (
	"net/url"
	"regexp"
	"strings"
)

// placeholder is one {{.key}} of a URL template.
var placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// templateValue is what a placeholder may be replaced with: host names,
// paths and whole base URLs, nothing that could add a query, a fragment,
// userinfo or whitespace.
var templateValue = regexp.MustCompile(`^[A-Za-z0-9._~:/-]+$`)

// RenderURL renders a URL template from a driver's Describe (Auth's
// AuthorizeURL and TokenURL) with a connection's config: each {{.key}}
// is replaced by config[key], e.g. "https://accounts.zoho.{{.dc}}/oauth/v2/auth"
// with dc "eu". The host and drivers render with this one function, so they
// always agree. Errors: CodeInvalid naming "config.<key>" for a missing
// value or one with characters other than letters, digits and ._~:/-, and
// naming "template" for a malformed template or a result that is not an
// absolute http(s) URL without userinfo or fragment.
func RenderURL(template string, config map[string]string) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(template, func(m string) string {
		key := placeholder.FindStringSubmatch(m)[1]
		v := config[key]
		switch {
		case err != nil:
		case v == "":
			err = Invalid("config."+key, "is required by the URL template %q", template)
		case !templateValue.MatchString(v):
			err = Invalid("config."+key, "may hold only letters, digits and . _ ~ : / - (it fills the URL template %q)", template)
		}
		return v
	})
	if err != nil {
		return "", err
	}
	if strings.Contains(out, "{{") || strings.Contains(out, "}}") {
		return "", Invalid("template", "%q has a placeholder that is not of the form {{.key}}", template)
	}
	u, perr := url.Parse(out)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", Invalid("template", "%q does not render to an absolute http(s) URL without userinfo or fragment", template)
	}
	return out, nil
}
