package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// templates holds one template set per page: the layout and partials
// plus the page's own file. In live mode every lookup parses afresh.
type templates struct {
	files func() fs.FS
	live  bool
	funcs template.FuncMap

	mu    sync.Mutex
	pages map[string]*template.Template
}

func loadTemplates(files func() fs.FS, live bool, funcs template.FuncMap) (*templates, error) {
	t := &templates{files: files, live: live, funcs: funcs, pages: map[string]*template.Template{}}
	names, err := fs.Glob(files(), "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		page := strings.TrimSuffix(path.Base(n), ".html")
		if page == "layout" || page == "partials" {
			continue
		}
		if _, err := t.get(page); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *templates) get(page string) (*template.Template, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.pages[page]; ok && !t.live {
		return p, nil
	}
	p, err := template.New(page).Funcs(t.funcs).ParseFS(t.files(), "templates/layout.html", "templates/partials.html", "templates/"+page+".html")
	if err != nil {
		return nil, fmt.Errorf("console template %s: %w", page, err)
	}
	t.pages[page] = p
	return p, nil
}

// layoutView is what the layout renders around a page's view (V).
type layoutView struct {
	Prefix   string
	Operator string
	Nav      []navItem
	Active   string
	V        any
}

type navItem struct{ Label, Path string }

// render writes page's full HTML, or only its "content" block for an
// htmx request that targets the page body.
func (c *Console) render(w http.ResponseWriter, r *http.Request, page string, v any) {
	c.renderBlock(w, r, page, "layout", v)
}

// renderBlock writes one named template of page (a fragment for htmx).
func (c *Console) renderBlock(w http.ResponseWriter, r *http.Request, page, block string, v any) {
	t, err := c.tmpl.get(page)
	if err != nil {
		c.log.Error("console template", "error", err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	lv := layoutView{Prefix: c.o.Prefix, Operator: operatorOf(r).Name, Nav: c.nav, Active: page, V: v}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, lv); err != nil {
		c.log.Error("console render", "page", page, "block", block, "error", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// problem is an error as a page shows it: the message for people, and the
// details (code, field, request id) folded under it.
type problem struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// problemOf explains err for the page. Internal errors keep their details
// in the log; a driver's words are redacted as on the JSON API.
func problemOf(r *http.Request, err error) *problem {
	if err == nil {
		return nil
	}
	p := &problem{Code: string(host.CodeOf(err)), RequestID: requestIDOf(r)}
	var he *host.Error
	var se *sdk.Error
	switch {
	case errors.As(err, &he) && he.Code != host.CodeInternal:
		p.Message, p.Field = he.Message, he.Field
		if he.Code == host.CodeDriverUnavailable {
			p.Message = Redact(p.Message)
		}
	case errors.As(err, &se):
		p.Message, p.Field = Redact(se.Message), se.Field
	default:
		p.Code = string(host.CodeInternal)
		p.Message = "The host could not do that; the request id locates the details in its log."
	}
	return p
}

var statusOf = map[host.ErrorCode]int{
	host.CodeInvalid: http.StatusBadRequest, host.CodeNotFound: http.StatusNotFound, host.CodeConflict: http.StatusConflict,
	host.CodeNotConnected: http.StatusConflict, host.CodeUnauthenticated: http.StatusUnauthorized, host.CodeForbidden: http.StatusForbidden,
	host.CodeDriverUnavailable: http.StatusServiceUnavailable, host.CodeTimeout: http.StatusGatewayTimeout,
}

// fail renders an error page for err.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(r, err)
	status, ok := statusOf[host.CodeOf(err)]
	if !ok {
		status = http.StatusBadGateway
		if p.Code == string(host.CodeInternal) {
			status = http.StatusInternalServerError
		}
	}
	if status >= 500 {
		c.log.Error("console", "path", r.URL.Path, "request_id", p.RequestID, "error", err)
	}
	w.WriteHeader(status)
	c.render(w, r, "error", p)
}

// redirect answers a form post: a 303 to target (HX-Redirect for htmx).
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, target string) {
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"prefix": func() string { return c.o.Prefix },
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return "—"
				}
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			case *time.Time:
				if v == nil || v.IsZero() {
					return "—"
				}
				return v.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			return "—"
		},
		"ago": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			d := c.now().Sub(*t).Round(time.Second)
			if d < 0 {
				return "in " + (-d).String()
			}
			return d.String() + " ago"
		},
		"q":       url.QueryEscape,
		"path":    url.PathEscape,
		"join":    strings.Join,
		"badge":   badgeClass,
		"label":   statusLabel,
		"sorted":  func(m map[string]int) []string { k := keys(m); sort.Strings(k); return k },
		"inc":     func(i int) int { return i + 1 },
		"dict":    dict,
		"contain": func(list []string, v string) bool { return contains(list, v) },
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// dict builds a map for passing several values to a partial.
func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}
