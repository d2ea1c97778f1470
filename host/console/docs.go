package console

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	hosthttp "crmhost.dev/host/http"
)

// Redact removes from a provider's or driver's words what a customer
// must not see (paths, addresses, hashes, traces), as the JSON API does.
func Redact(s string) string { return hosthttp.Redact(s) }

// apiDoc is the part of an OpenAPI 3.1 document the reference renders.
type apiDoc struct {
	Info struct {
		Title, Version, Description string
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type apiOperation struct {
	Summary     string `json:"summary"`
	Description string `json:"description"`
	OperationID string `json:"operationId"`
	Tags        []string
	Parameters  []struct {
		Name, In, Description string
		Required              bool
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Description string `json:"description"`
	} `json:"responses"`
	Security []map[string][]string `json:"security"`
}

type docOp struct {
	Method, Path string
	Op           apiOperation
	Statuses     []string
	Body         bool
}

type docGroup struct {
	Tag string
	Ops []docOp
}

type docsView struct {
	Title, Version, Description string
	Groups                      []docGroup
	Error                       string
}

// docs renders the JSON API's OpenAPI document for people: every
// operation grouped by tag, with its parameters, body and answers. The
// raw document stays at /openapi.json. The console's own HTML routes are
// not part of it: it describes the JSON API.
func (c *Console) docs(w http.ResponseWriter, r *http.Request) {
	raw := c.o.OpenAPI
	if raw == nil {
		raw = hosthttp.OpenAPI()
	}
	var d apiDoc
	var v docsView
	if err := json.Unmarshal(raw, &d); err != nil {
		v.Error = "The OpenAPI document does not parse: " + err.Error()
		c.render(w, r, "docs", v)
		return
	}
	v.Title, v.Version, v.Description = d.Info.Title, d.Info.Version, d.Info.Description
	groups := map[string][]docOp{}
	for path, ops := range d.Paths {
		for method, rawOp := range ops {
			if method == "parameters" || strings.HasPrefix(method, "x-") {
				continue
			}
			var op apiOperation
			if json.Unmarshal(rawOp, &op) != nil {
				continue
			}
			do := docOp{Method: strings.ToUpper(method), Path: path, Op: op, Body: op.RequestBody != nil}
			for s := range op.Responses {
				do.Statuses = append(do.Statuses, s)
			}
			sort.Strings(do.Statuses)
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			groups[tag] = append(groups[tag], do)
		}
	}
	for _, tag := range sortedKeys(groups) {
		ops := groups[tag]
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return ops[i].Method < ops[j].Method
		})
		v.Groups = append(v.Groups, docGroup{Tag: tag, Ops: ops})
	}
	c.render(w, r, "docs", v)
}
