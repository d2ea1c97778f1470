package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
)

func (c *Console) mappingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/mappings", c.studio)
	mux.HandleFunc("POST /tenants/{id}/mappings", c.saveMapping)
	mux.HandleFunc("POST /tenants/{id}/mappings/delete", c.deleteMapping)
	mux.HandleFunc("GET /tenants/{id}/mappings/preview", c.preview)
}

// keyRow is one canonical key of an object with its read and write
// targets and where each comes from.
type keyRow struct {
	Key                      string
	Read, Write              string
	ReadOverride, WriteOverr bool
}

type studioView struct {
	Tenant    host.Tenant
	Tabs      []tab
	Object    string
	Objects   []string
	Provider  string // the provider object serving Object
	Query     string
	Rows      []keyRow
	Fields    []sdk.Field
	FieldsErr *problem
	Overrides []host.FieldMapping
	Warnings  []string
	Triggers  []host.FieldMapping
	Problem   *problem
	Saved     string
	Sample    []sampleField
	Kinds     []string
	Keys      []string
}

type sampleField struct{ Key, Value string }

// studioView gathers the studio for object (the canonical customer when
// empty): the mapping as the next call would resolve it, and the
// provider's live fields for its object.
func (c *Console) studioView(r *http.Request, object string) (studioView, broker.Resolved, error) {
	ctx := r.Context()
	t, err := c.o.Store.GetTenant(ctx, r.PathValue("id"))
	if err != nil {
		return studioView{}, broker.Resolved{}, err
	}
	v := studioView{Tenant: t, Tabs: tenantTabs, Kinds: []string{"write", "read", "object", "trigger"}}
	res, err := c.o.Broker.ResolveMapping(ctx, t.ID)
	if err != nil {
		return v, res, err
	}
	v.Objects = res.Mapping.Objects()
	v.Object = object
	if v.Object == "" || !contains(v.Objects, v.Object) {
		v.Object = broker.CustomerObject
		if !contains(v.Objects, v.Object) && len(v.Objects) > 0 {
			v.Object = v.Objects[0]
		}
	}
	v.Provider, _ = res.Mapping.Object(v.Object)
	over := map[string]bool{}
	for _, o := range res.Overrides {
		over[string(o.Kind)+" "+o.Key] = true
		if o.Kind == host.MappingTrigger {
			v.Triggers = append(v.Triggers, o)
		}
		if strings.HasPrefix(o.Key, v.Object+".") || o.Key == v.Object || o.Kind == host.MappingTrigger {
			v.Overrides = append(v.Overrides, o)
		}
	}
	rows := map[string]*keyRow{}
	for _, e := range res.Mapping.Effective(t.ID) {
		if (e.Kind != host.MappingRead && e.Kind != host.MappingWrite) || !strings.HasPrefix(e.Key, v.Object+".") {
			continue
		}
		row := rows[e.Key]
		if row == nil {
			row = &keyRow{Key: e.Key}
			rows[e.Key] = row
		}
		if e.Kind == host.MappingRead {
			row.Read, row.ReadOverride = e.Target, over["read "+e.Key]
		} else {
			row.Write, row.WriteOverr = e.Target, over["write "+e.Key]
		}
	}
	for _, k := range sortedKeys(rows) {
		v.Keys = append(v.Keys, k)
		v.Rows = append(v.Rows, *rows[k])
	}
	schema, err := c.o.Broker.Fields(ctx, actor(r), t.ID, v.Object)
	if err != nil {
		v.FieldsErr = problemOf(r, err)
	} else {
		v.Fields = schema.Fields
		sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].Name < v.Fields[j].Name })
	}
	v.Warnings = warnings(v.Rows, v.Fields, v.FieldsErr == nil)
	for _, row := range v.Rows {
		if row.Write != "" {
			v.Sample = append(v.Sample, sampleField{Key: row.Key, Value: sampleValue(row.Key)})
		}
	}
	return v, res, nil
}

func sortedKeys[V any](m map[string]V) []string {
	k := keys(m)
	sort.Strings(k)
	return k
}

// filter keeps the rows and fields matching q (key, target or field
// name, label or type).
func (v *studioView) filter(q string) {
	v.Query = q
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return
	}
	var rows []keyRow
	for _, r := range v.Rows {
		if strings.Contains(strings.ToLower(r.Key+" "+r.Read+" "+r.Write), q) {
			rows = append(rows, r)
		}
	}
	var fields []sdk.Field
	for _, f := range v.Fields {
		if strings.Contains(strings.ToLower(f.Name+" "+f.Label+" "+f.Type), q) {
			fields = append(fields, f)
		}
	}
	v.Rows, v.Fields = rows, fields
}

func (c *Console) studio(w http.ResponseWriter, r *http.Request) {
	v, _, err := c.studioView(r, r.URL.Query().Get("object"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.filter(r.URL.Query().Get("q"))
	v.Saved = r.URL.Query().Get("saved")
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "studio-tables" {
		c.renderBlock(w, r, "mappings", "tables", v)
		return
	}
	c.render(w, r, "mappings", v)
}

// liveField finds the live field a mapping target names: the whole path,
// or its first segment (a nested provider field).
func liveField(fields []sdk.Field, target string) (sdk.Field, bool) {
	first, _, _ := strings.Cut(target, ".")
	for _, f := range fields {
		if f.Name == target || f.Name == first {
			return f, true
		}
	}
	return sdk.Field{}, false
}

// saveMapping stores one override after checking it against the driver
// (the broker) and, for read and write mappings, against the provider's
// live fields: a field the provider does not have is refused with
// nothing saved.
func (c *Console) saveMapping(w http.ResponseWriter, r *http.Request) {
	object := r.PostFormValue("object")
	m := host.FieldMapping{TenantID: r.PathValue("id"), Kind: host.MappingKind(r.PostFormValue("kind")),
		Key: strings.TrimSpace(r.PostFormValue("key")), Target: strings.TrimSpace(r.PostFormValue("target"))}
	v, _, err := c.studioView(r, object)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if (m.Kind == host.MappingRead || m.Kind == host.MappingWrite) && v.FieldsErr == nil && m.Target != "" {
		if _, ok := liveField(v.Fields, m.Target); !ok {
			v.Problem = &problem{Code: string(host.CodeInvalid), Field: "target", RequestID: requestIDOf(r),
				Message: fmt.Sprintf("%s has no field %q on %s: pick one of its live fields.", v.Tenant.Name+"'s CRM", m.Target, v.Provider)}
		}
	}
	if v.Problem == nil {
		if _, err := c.o.Broker.SetMapping(r.Context(), actor(r), m); err != nil {
			v.Problem = problemOf(r, err)
		}
	}
	if v.Problem != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		c.render(w, r, "mappings", v)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+v.Tenant.ID+"/mappings?object="+v.Object+"&saved="+string(m.Kind)+"+"+m.Key)
}

func (c *Console) deleteMapping(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	kind := host.MappingKind(r.PostFormValue("kind"))
	if err := c.o.Broker.DeleteMapping(r.Context(), actor(r), id, kind, r.PostFormValue("key")); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+id+"/mappings?object="+r.PostFormValue("object"))
}

type previewView struct {
	Object   string
	Records  []broker.Record
	Empty    string
	Problem  *problem
	Write    string // the sample write, as the provider would receive it
	Sample   bool
	Provider string
}

// preview shows real records as the agent reads them through the mapping
// (a lookup, or the object's recent records), or renders a sample write
// to the provider's field names without sending it.
func (c *Console) preview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	id := r.PathValue("id")
	v := previewView{Object: q.Get("object")}
	res, err := c.o.Broker.ResolveMapping(ctx, id)
	if err != nil {
		v.Problem = problemOf(r, err)
		c.renderBlock(w, r, "mappings", "preview", v)
		return
	}
	v.Provider, _ = res.Mapping.Object(v.Object)
	switch q.Get("mode") {
	case "write":
		v.Sample = true
		fields := map[string]any{}
		for k, vals := range q {
			if short, ok := strings.CutPrefix(k, "w."); ok && len(vals) > 0 && vals[0] != "" {
				fields[short] = vals[0]
			}
		}
		out, err := res.Mapping.Write(v.Object, fields)
		if err != nil {
			v.Problem = problemOf(r, err)
			break
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		v.Write = string(b)
	case "lookup":
		in := broker.LookupInput{Phone: strings.TrimSpace(q.Get("phone")), Email: strings.TrimSpace(q.Get("email")),
			ExternalID: strings.TrimSpace(q.Get("external_id")), Objects: []string{v.Object}}
		out, err := c.o.Broker.LookupCustomer(ctx, actor(r), id, in)
		switch {
		case err != nil:
			v.Problem = problemOf(r, err)
		case out.Customer == nil:
			v.Empty = "No record matches: it may have been deleted, or the value is not the provider's."
		default:
			v.Records = []broker.Record{*out.Customer}
		}
	default:
		out, err := c.o.Broker.ListRecent(ctx, actor(r), id, broker.ListInput{Object: v.Object, Since: c.now().Add(-365 * 24 * time.Hour), Limit: 5})
		switch {
		case err != nil:
			v.Problem = problemOf(r, err)
		case len(out.Records) == 0:
			v.Empty = "The provider has no record of this object changed in the last year."
		default:
			v.Records = out.Records
		}
	}
	c.renderBlock(w, r, "mappings", "preview", v)
}

// sampleValue is a plausible value for a canonical key in a sample write.
func sampleValue(key string) string {
	k := key[strings.LastIndex(key, ".")+1:]
	switch {
	case strings.Contains(k, "email"):
		return "ada@example.com"
	case strings.Contains(k, "phone"):
		return "+14155550100"
	case k == "first_name":
		return "Ada"
	case k == "last_name":
		return "Lovelace"
	case strings.Contains(k, "date") || strings.HasSuffix(k, "_at"):
		return "2026-01-02"
	case strings.Contains(k, "amount") || strings.Contains(k, "budget"):
		return "1000"
	}
	return "sample"
}
