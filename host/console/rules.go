package console

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
)

// Trigger rules: list, create, edit (each save a new version, the
// version read guarding against a concurrent edit) and delete, through
// the outbound service, which checks every condition's field against the
// tenant's mapping and audits the save.

func (c *Console) ruleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /tenants/{id}/rules", c.rulesPage)
	mux.HandleFunc("POST /tenants/{id}/rules", c.createRule)
	mux.HandleFunc("GET /tenants/{id}/rules/{rule}", c.rulePage)
	mux.HandleFunc("POST /tenants/{id}/rules/{rule}", c.updateRule)
	mux.HandleFunc("POST /tenants/{id}/rules/{rule}/delete", c.deleteRule)
}

// eventKinds are the canonical event kinds a rule can name.
var eventKinds = []string{sdk.EventCreated, sdk.EventUpdated, sdk.EventDeleted}

// ruleForm is a rule as the form carries it: text, shown again as typed
// after a refusal.
type ruleForm struct {
	Name       string
	Enabled    bool
	Events     []string
	Objects    string // comma-separated canonical objects
	Conditions string // one per line: <field> <op> [value]
	Purpose    string
	Delay      string
	Subject    string
	Version    int
}

func formOfRule(r host.TriggerRule) ruleForm {
	f := ruleForm{Name: r.Name, Enabled: r.Enabled, Events: r.Events, Objects: strings.Join(r.Objects, ", "), Purpose: string(r.Purpose),
		Subject: r.Subject, Version: r.Version}
	if r.DelaySeconds != 0 {
		f.Delay = strconv.Itoa(r.DelaySeconds)
	}
	var lines []string
	for _, c := range r.Conditions {
		line := c.Field + " " + c.Op
		switch {
		case c.Op == host.OpIn:
			line += " " + strings.Join(c.Values, " | ")
		case c.Value != "":
			line += " " + c.Value
		}
		lines = append(lines, line)
	}
	f.Conditions = strings.Join(lines, "\n")
	return f
}

var listSep = regexp.MustCompile(`[\s,]+`)

// ruleFormOf reads the posted form.
func ruleFormOf(r *http.Request) ruleForm {
	_ = r.ParseForm()
	f := ruleForm{Name: strings.TrimSpace(r.PostFormValue("name")), Enabled: r.PostFormValue("enabled") != "", Events: r.PostForm["events"],
		Objects: strings.TrimSpace(r.PostFormValue("objects")), Conditions: strings.TrimSpace(r.PostFormValue("conditions")),
		Purpose: r.PostFormValue("purpose"), Delay: strings.TrimSpace(r.PostFormValue("delay_seconds")), Subject: strings.TrimSpace(r.PostFormValue("subject"))}
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	return f
}

// rule turns the form into a rule, or a CodeInvalid error naming the
// form's field.
func (f ruleForm) rule(tenant, id string) (host.TriggerRule, error) {
	r := host.TriggerRule{TenantID: tenant, ID: id, Name: f.Name, Enabled: f.Enabled, Events: f.Events, Subject: f.Subject}
	for _, e := range f.Events {
		if !contains(eventKinds, e) {
			return r, &host.Error{Code: host.CodeInvalid, Field: "events", Message: fmt.Sprintf("%q is not an event kind", e)}
		}
	}
	for _, o := range listSep.Split(f.Objects, -1) {
		if o != "" {
			r.Objects = append(r.Objects, o)
		}
	}
	switch f.Purpose {
	case string(host.PurposeInformational), string(host.PurposeTelemarketing):
		r.Purpose = host.CallPurpose(f.Purpose)
	default:
		return r, &host.Error{Code: host.CodeInvalid, Field: "purpose", Message: "choose informational or telemarketing"}
	}
	if f.Delay != "" {
		n, err := strconv.Atoi(f.Delay)
		if err != nil {
			return r, &host.Error{Code: host.CodeInvalid, Field: "delay_seconds", Message: fmt.Sprintf("%q is not a whole number of seconds", f.Delay)}
		}
		r.DelaySeconds = n
	}
	for i, line := range strings.Split(f.Conditions, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		field, rest, _ := strings.Cut(line, " ")
		op, value, _ := strings.Cut(strings.TrimSpace(rest), " ")
		cond := host.Condition{Field: field, Op: op}
		value = strings.TrimSpace(value)
		if op == host.OpIn {
			for _, v := range strings.Split(value, "|") {
				if v = strings.TrimSpace(v); v != "" {
					cond.Values = append(cond.Values, v)
				}
			}
		} else {
			cond.Value = value
		}
		if op == "" {
			return r, &host.Error{Code: host.CodeInvalid, Field: fmt.Sprintf("conditions[%d]", len(r.Conditions)),
				Message: fmt.Sprintf("line %d, %q, names no operator: write <field> <op> [value]", i+1, line)}
		}
		r.Conditions = append(r.Conditions, cond)
	}
	return r, nil
}

// ruleLabels name the form's fields in messages.
var ruleLabels = map[string]string{"name": "Name", "events": "Events", "objects": "Objects", "purpose": "Purpose",
	"delay_seconds": "Delay (seconds)", "subject": "Subject", "version": "Version"}

var condField = regexp.MustCompile(`^conditions\[(\d+)\]`)

// formProblem explains a refusal in the form's words: the field's label
// before the message ("Delay (seconds): must be between ...").
func formProblem(r *http.Request, err error, labels map[string]string) *problem {
	p := problemOf(r, err)
	if p.Field == "" || host.CodeOf(err) != host.CodeInvalid {
		return p
	}
	label := labels[p.Field]
	if m := condField.FindStringSubmatch(p.Field); m != nil {
		n, _ := strconv.Atoi(m[1])
		label = "Condition " + strconv.Itoa(n+1)
		p.Field = "conditions"
	}
	if label == "" {
		label = p.Field
	}
	p.Message = label + ": " + p.Message
	return p
}

type rulesView struct {
	Tenant   host.Tenant
	Tabs     []tab
	Rules    []host.TriggerRule
	History  []host.TriggerRule
	Form     ruleForm
	Rule     *host.TriggerRule // the rule edited
	Kinds    []string
	Ops      []string
	Saved    string
	Problem  *problem
	ReadOnly bool
}

var ruleOps = []string{host.OpEquals, host.OpNotEquals, host.OpIn, host.OpExists, host.OpChanged, host.OpChangedTo}

func (c *Console) rulesView(r *http.Request) (rulesView, error) {
	t, err := c.o.Store.GetTenant(r.Context(), r.PathValue("id"))
	if err != nil {
		return rulesView{}, err
	}
	rs, err := c.o.Store.ListTriggerRules(r.Context(), t.ID)
	if err != nil {
		return rulesView{}, err
	}
	v := rulesView{Tenant: t, Tabs: tenantTabs, Kinds: eventKinds, Ops: ruleOps, Saved: r.URL.Query().Get("saved"), ReadOnly: c.o.Outbound == nil,
		Form: ruleForm{Enabled: true, Events: []string{sdk.EventCreated}, Objects: "lead", Purpose: string(host.PurposeTelemarketing)}}
	for _, x := range rs {
		if !x.Deleted {
			v.Rules = append(v.Rules, x)
		}
	}
	return v, nil
}

func (c *Console) rulesPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.rulesView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "rules", v)
}

// ruleRefused shows the form again, as typed, with why it was refused.
func (c *Console) ruleRefused(w http.ResponseWriter, r *http.Request, page string, v rulesView, f ruleForm, err error) {
	v.Form, v.Problem = f, formProblem(r, err, ruleLabels)
	status, ok := statusOf[host.CodeOf(err)]
	if !ok {
		status = http.StatusBadGateway
		if v.Problem.Code == string(host.CodeInternal) {
			status = http.StatusInternalServerError
			c.log.Error("console", "path", r.URL.Path, "request_id", v.Problem.RequestID, "error", err)
		}
	}
	if status == http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	w.WriteHeader(status)
	c.render(w, r, page, v)
}

func (c *Console) createRule(w http.ResponseWriter, r *http.Request) {
	if c.o.Outbound == nil {
		c.fail(w, r, notConfigured("Outbound calling"))
		return
	}
	v, err := c.rulesView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := ruleFormOf(r)
	rule, err := f.rule(v.Tenant.ID, "")
	if err == nil {
		rule, err = c.o.Outbound.SaveRule(r.Context(), actor(r), rule, 0)
	}
	if err != nil {
		c.ruleRefused(w, r, "rules", v, f, err)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+v.Tenant.ID+"/rules?saved="+rule.ID)
}

// ruleView is the rules view for one rule (404 for a deleted one).
func (c *Console) ruleView(r *http.Request) (rulesView, error) {
	v, err := c.rulesView(r)
	if err != nil {
		return v, err
	}
	id := r.PathValue("rule")
	rule, err := c.o.Store.GetTriggerRule(r.Context(), v.Tenant.ID, id)
	if err == nil && rule.Deleted {
		err = host.NotFound("deleted")
	}
	if err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			err = host.NotFound("This tenant has no trigger rule %q.", id)
		}
		return v, err
	}
	v.Rule, v.Form = &rule, formOfRule(rule)
	if v.History, err = c.o.Store.TriggerRuleHistory(r.Context(), v.Tenant.ID, id); err != nil {
		return v, err
	}
	return v, nil
}

func (c *Console) rulePage(w http.ResponseWriter, r *http.Request) {
	v, err := c.ruleView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "rule", v)
}

// updateRule saves the rule's next version; the form carries the version
// it was read at, so a concurrent edit is refused (409), not overwritten.
func (c *Console) updateRule(w http.ResponseWriter, r *http.Request) {
	if c.o.Outbound == nil {
		c.fail(w, r, notConfigured("Outbound calling"))
		return
	}
	v, err := c.ruleView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := ruleFormOf(r)
	rule, err := f.rule(v.Tenant.ID, v.Rule.ID)
	if err == nil && f.Version <= 0 {
		err = &host.Error{Code: host.CodeInvalid, Field: "version", Message: "the form lacks the version it was read at; reload the page"}
	}
	if err == nil {
		rule, err = c.o.Outbound.SaveRule(r.Context(), actor(r), rule, f.Version)
	}
	if err != nil {
		if host.CodeOf(err) == host.CodeConflict {
			err = &host.Error{Code: host.CodeConflict, Message: "Someone saved this rule since you opened it: reload the page to see their version, then edit again."}
		}
		c.ruleRefused(w, r, "rule", v, f, err)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+v.Tenant.ID+"/rules?saved="+rule.ID)
}

func (c *Console) deleteRule(w http.ResponseWriter, r *http.Request) {
	if c.o.Outbound == nil {
		c.fail(w, r, notConfigured("Outbound calling"))
		return
	}
	id, rule := r.PathValue("id"), r.PathValue("rule")
	if err := c.o.Outbound.DeleteRule(r.Context(), actor(r), id, rule); err != nil {
		if host.CodeOf(err) == host.CodeNotFound {
			err = host.NotFound("This tenant has no trigger rule %q.", rule)
		}
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/tenants/"+id+"/rules")
}
