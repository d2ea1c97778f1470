package receiver

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handler serves the contract for one tenant (one endpoint URL, one
// account) over an in-memory customers table.
type Handler struct {
	// Secrets are the whsec_ secrets accepted (the new one and, during a
	// rotation, the old one).
	Secrets []string
	// AccountID is this tenant's id, answered in crm.describe.
	AccountID string
	// Now is the clock (time.Now).
	Now func() time.Time

	mu        sync.Mutex
	customers map[string]*customer
	keys      map[string]string    // idempotency key -> id
	answered  map[string][]byte    // webhook-id -> first answer (prune after a day in real code)
	status    map[string]int       // webhook-id -> its status
	deleted   map[string]time.Time // tombstones
	next      int
}

type customer struct {
	ID        string         `json:"external_id"`
	Object    string         `json:"object"`
	UpdatedAt string         `json:"updated_at"`
	Fields    map[string]any `json:"fields"`
}

// fields are the customer fields this endpoint knows.
var fields = []string{"first_name", "last_name", "email", "phone", "company"}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// ServeHTTP verifies the request, replays a repeated webhook-id, and
// answers the envelope.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	payload, err := Payload(r)
	if err != nil {
		reply(w, http.StatusBadRequest, fail("invalid", "", "unreadable request"))
		return
	}
	id := r.Header.Get("webhook-id")
	if Verify(h.Secrets, id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), payload, h.now()) != nil {
		reply(w, http.StatusUnauthorized, fail("auth_error", "", "signature verification failed"))
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.answered == nil {
		h.customers, h.keys, h.answered, h.status, h.deleted = map[string]*customer{}, map[string]string{}, map[string][]byte{}, map[string]int{}, map[string]time.Time{}
	}
	if body, ok := h.answered[id]; ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(h.status[id])
		w.Write(body)
		return
	}
	var env struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	status, out := http.StatusBadRequest, any(fail("invalid", "", "not an envelope"))
	if json.Unmarshal(payload, &env) == nil {
		status, out = h.handle(env.Type, env.Data)
	}
	body, _ := json.Marshal(out)
	h.answered[id], h.status[id] = body, status
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

type data struct {
	Objects        []string        `json:"objects"`
	Object         string          `json:"object"`
	Phone          string          `json:"phone"`
	Email          string          `json:"email"`
	ExternalID     string          `json:"external_id"`
	Query          string          `json:"query"`
	Limit          int             `json:"limit"`
	Since          string          `json:"since"`
	IdempotencyKey string          `json:"idempotency_key"`
	Fields         map[string]any  `json:"-"`
	RawFields      json.RawMessage `json:"fields"`
}

func (h *Handler) handle(typ string, raw json.RawMessage) (int, any) {
	if typ == "crm.describe" {
		decl := []map[string]string{}
		for _, f := range fields {
			typ := "string"
			if f == "email" || f == "phone" {
				typ = f
			}
			decl = append(decl, map[string]string{"name": f, "type": typ})
		}
		return http.StatusOK, map[string]any{"account_id": h.AccountID, "objects": []any{map[string]any{
			"name": "customers", "canonical": "customer", "fields": decl,
			"verbs":       []string{"lookup_customer", "search_records", "create_record", "update_record", "list_recent", "delete_record"},
			"unsupported": map[string]string{"erase_record": "this example keeps no personal data worth erasing separately"},
		}}}
	}
	var d data
	if err := json.Unmarshal(raw, &d); err != nil {
		return http.StatusBadRequest, fail("invalid", "data", "bad data")
	}
	_ = json.Unmarshal(d.RawFields, &d.Fields) // an object for writes; a list for reads
	switch typ {
	case "crm.lookup_customer":
		out := []*customer{}
		for _, c := range h.customers {
			if (d.ExternalID == "" || c.ID == d.ExternalID) && (d.Email == "" || strings.EqualFold(str(c.Fields["email"]), d.Email)) &&
				(d.Phone == "" || digits(str(c.Fields["phone"])) == digits(d.Phone)) {
				out = append(out, c)
			}
		}
		return http.StatusOK, map[string]any{"records": out}
	case "crm.search_records":
		out := []*customer{}
		for _, c := range h.sorted() {
			b, _ := json.Marshal(c.Fields)
			if len(out) < d.Limit && strings.Contains(strings.ToLower(string(b)), strings.ToLower(d.Query)) {
				out = append(out, c)
			}
		}
		return http.StatusOK, map[string]any{"records": out}
	case "crm.create_record":
		if id, ok := h.keys[d.IdempotencyKey]; ok && d.IdempotencyKey != "" {
			return http.StatusOK, map[string]string{"external_id": id}
		}
		for k := range d.Fields {
			if !slices.Contains(fields, k) {
				return http.StatusUnprocessableEntity, fail("invalid", "fields."+k, k+" is not a customer field")
			}
		}
		h.next++
		c := &customer{ID: "c" + strconv.Itoa(h.next), Object: "customers", UpdatedAt: h.now().Format(time.RFC3339Nano), Fields: d.Fields}
		h.customers[c.ID] = c
		if d.IdempotencyKey != "" {
			h.keys[d.IdempotencyKey] = c.ID
		}
		return http.StatusCreated, map[string]string{"external_id": c.ID}
	case "crm.update_record":
		c := h.customers[d.ExternalID]
		if c == nil {
			return http.StatusNotFound, fail("not_found", "", "no such customer")
		}
		for k, v := range d.Fields {
			if !slices.Contains(fields, k) {
				return http.StatusUnprocessableEntity, fail("invalid", "fields."+k, k+" is not a customer field")
			}
			c.Fields[k] = v
		}
		c.UpdatedAt = h.now().Format(time.RFC3339Nano)
		return http.StatusOK, map[string]string{}
	case "crm.list_recent":
		since, _ := time.Parse(time.RFC3339Nano, d.Since)
		out := []*customer{}
		for _, c := range h.sorted() {
			if t, _ := time.Parse(time.RFC3339Nano, c.UpdatedAt); !t.Before(since) {
				out = append(out, c) // one page: a real CRM pages with next_page_token
			}
		}
		tombs := []map[string]string{}
		for id, at := range h.deleted {
			if !at.Before(since) {
				tombs = append(tombs, map[string]string{"external_id": id, "deleted_at": at.Format(time.RFC3339Nano)})
			}
		}
		return http.StatusOK, map[string]any{"records": out, "tombstones": tombs}
	case "crm.delete_record":
		if h.customers[d.ExternalID] == nil {
			return http.StatusNotFound, fail("not_found", "", "no such customer")
		}
		delete(h.customers, d.ExternalID)
		h.deleted[d.ExternalID] = h.now()
		return http.StatusOK, map[string]bool{"hard_deleted": true}
	}
	return http.StatusNotImplemented, fail("unsupported", "", typ+" is not supported here")
}

// sorted lists customers oldest first (updated_at, then id).
func (h *Handler) sorted() []*customer {
	out := make([]*customer, 0, len(h.customers))
	for _, c := range h.customers {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *customer) int {
		if c := strings.Compare(a.UpdatedAt, b.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func fail(code, field, msg string) map[string]string {
	return map[string]string{"code": code, "field": field, "message": msg}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func str(v any) string { s, _ := v.(string); return s }

// digits keeps a phone's digits: compare national and E.164 forms of
// NANP numbers crudely (a real receiver normalises with libphonenumber).
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) == 11 && out[0] == '1' {
		out = out[1:]
	}
	return out
}
