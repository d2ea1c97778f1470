package genericrest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// pager is a compiled Pagination.
type pager struct {
	field string
	style string
	size  int
	next  *jpath
	total *jpath
	start int
	max   int
}

// Pagination defaults.
const (
	defaultPageSize = 100
	defaultMaxPages = 100
)

func compilePager(f string, p *Pagination, req *request) (pager, error) {
	out := pager{field: f, style: PageNone, size: defaultPageSize, start: 1, max: defaultMaxPages}
	if p == nil {
		return out, nil
	}
	out.style = p.Style
	if p.PageSize > 0 {
		out.size = p.PageSize
	}
	if p.StartPage != nil {
		out.start = *p.StartPage
	}
	if p.MaxPages > 0 {
		out.max = p.MaxPages
	}
	var err error
	if p.Next != "" {
		if p.Style != PageCursor {
			return out, sdk.Invalid(f+".next", "applies only to style cursor")
		}
		if out.next, err = compilePath(f+".next", p.Next); err != nil {
			return out, err
		}
	}
	if p.Total != "" {
		if p.Style != PageOffset && p.Style != PagePage {
			return out, sdk.Invalid(f+".total", "applies only to styles offset and page")
		}
		if out.total, err = compilePath(f+".total", p.Total); err != nil {
			return out, err
		}
	}
	need := map[string]string{PageOffset: "offset", PagePage: "page", PageCursor: "cursor"}[p.Style]
	if need != "" && !refers(req, need) {
		return out, sdk.Invalid(f+".style", "is %s but the request never uses %s, so every page would be the first", p.Style, need)
	}
	return out, nil
}

// pageFunc receives one page's records; it answers false to stop.
type pageFunc func(records []any) (bool, error)

// readPages sends rd's request page by page, with vars and the paging
// variables, and hands each page's records to fn until fn stops, the
// pages end, or the pagination's max_pages is reached (truncated true).
// Errors: send's, and CodeInvalid naming the records path when an
// answer holds no records where the definition says.
func (s *session) readPages(ctx context.Context, o *object, rd *read, vars map[string]any, fn pageFunc) (truncated bool, err error) {
	p := rd.page
	offset, pageNo, cursor := 0, p.start, ""
	var next *rendered // the Link header's next page
	for n := 0; ; n++ {
		if n == p.max {
			return true, nil
		}
		var a answer
		if next != nil {
			a, err = s.sendRendered(ctx, o, rd.req.field, *next)
		} else {
			v := clone(vars)
			v["page_size"], v["offset"], v["page"], v["cursor"] = int64(p.size), int64(offset), int64(pageNo), cursor
			a, err = s.send(ctx, o, rd.req, v)
		}
		if err != nil {
			return false, err
		}
		records, err := selectRecords(rd, a.body)
		if err != nil {
			return false, err
		}
		more, err := fn(records)
		if err != nil || !more {
			return false, err
		}
		switch p.style {
		case PageNone:
			return false, nil
		case PageOffset, PagePage:
			offset += len(records)
			pageNo++
			if len(records) == 0 {
				return false, nil
			}
			// With a total the API may answer shorter pages than asked
			// (a server-side maximum); without one a short page is the
			// last.
			if t, ok := number(p.total, a.body); ok {
				if (p.style == PageOffset && int64(offset) >= t) || (p.style == PagePage && int64(pageNo-p.start) >= t) {
					return false, nil
				}
			} else if len(records) < p.size {
				return false, nil
			}
		case PageCursor:
			v, _ := p.next.first(a.body)
			c, ok, _ := scalarString("", celValue(v))
			if !ok || c == "" || c == cursor || len(records) == 0 {
				return false, nil
			}
			cursor = c
		case PageLink:
			if len(records) == 0 {
				return false, nil
			}
			if next, err = s.linkNext(a, rd); err != nil || next == nil {
				return false, err
			}
		}
	}
}

// selectRecords applies rd's records path. A path that selects one list
// (e.g. "$.data") is taken as that list's elements. Errors: CodeInvalid
// naming the records path when the answer has nothing there.
func selectRecords(rd *read, body any) ([]any, error) {
	nodes := rd.records.all(body)
	if len(nodes) == 1 {
		if l, ok := nodes[0].([]any); ok {
			return l, nil
		}
	}
	if len(nodes) == 0 {
		if body == nil {
			return nil, nil
		}
		if l, ok := body.([]any); ok && len(l) == 0 {
			return nil, nil
		}
		if !hasPathRoot(rd.records, body) {
			return nil, sdk.Invalid(rd.records.field, "selects nothing in the answer (%s): check the path against a real answer", describeShape(body))
		}
	}
	return nodes, nil
}

// hasPathRoot reports whether the first name the path selects exists in
// body: "$.data[*]" over {"data": []} selects nothing yet is right.
func hasPathRoot(p *jpath, body any) bool {
	m, ok := body.(map[string]any)
	if !ok {
		_, isList := body.([]any)
		return isList
	}
	src := strings.TrimPrefix(p.src, "$")
	src = strings.TrimPrefix(src, ".")
	if strings.HasPrefix(src, "['") {
		src = src[2:]
	}
	name := src
	if i := strings.IndexAny(src, ".[']"); i >= 0 {
		name = src[:i]
	}
	if name == "" || name == "*" {
		return true
	}
	_, ok = m[name]
	return ok
}

// describeShape says what an answer looks like, without its values: its
// top-level keys or that it is a list.
func describeShape(body any) string {
	switch x := body.(type) {
	case map[string]any:
		keys := sortedKeys(x)
		if len(keys) > 8 {
			keys = append(keys[:8], "…")
		}
		return "an object with keys " + strings.Join(keys, ", ")
	case []any:
		return "a list of " + strconv.Itoa(len(x))
	case nil:
		return "an empty answer"
	}
	return "a single value"
}

// number reads an integer at p in body.
func number(p *jpath, body any) (int64, bool) {
	if p == nil {
		return 0, false
	}
	v, ok := p.first(body)
	if !ok {
		return 0, false
	}
	switch x := celValue(v).(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// linkNext is the next page the answer's Link header names (RFC 8288
// rel="next"), or nil. The link must stay below the base URL. Errors:
// CodeUnavailable for a link elsewhere.
func (s *session) linkNext(a answer, rd *read) (*rendered, error) {
	target := nextLink(a.resp.Header.Values("Link"))
	if target == "" {
		return nil, nil
	}
	base, err := url.Parse(s.base)
	if err != nil {
		return nil, err
	}
	u, err := base.Parse(target)
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "%s's next-page link is not a URL", s.c.name)
	}
	prefix := strings.TrimSuffix(base.EscapedPath(), "/")
	path := u.EscapedPath()
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) || !strings.HasPrefix(path, prefix+"/") {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "%s's next-page link leaves the API's base URL; the driver follows links below it only", s.c.name)
	}
	return &rendered{Method: http.MethodGet, Path: strings.TrimPrefix(path, prefix), Query: u.Query(),
		Header: http.Header{}}, nil
}

// nextLink finds rel="next" in Link header values.
func nextLink(values []string) string {
	for _, v := range values {
		for _, link := range splitLinks(v) {
			link = strings.TrimSpace(link)
			if !strings.HasPrefix(link, "<") {
				continue
			}
			end := strings.IndexByte(link, '>')
			if end < 0 {
				continue
			}
			for _, param := range strings.Split(link[end+1:], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return link[1:end]
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links (not
// those inside <...> or quotes).
func splitLinks(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			depth++
		case c == '>' && !quoted && depth > 0:
			depth--
		case c == ',' && !quoted && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}
