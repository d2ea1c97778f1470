package fake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

type phone struct {
	id      int64
	number  string
	typ     *string
	primary bool
}

type address struct {
	id                                   int64
	address1, address2, city, state, zip *string
}

func (a *address) json() any {
	if a == nil {
		return nil
	}
	var parts []string
	for _, p := range []*string{a.address1, a.address2} {
		if p != nil && *p != "" {
			parts = append(parts, *p)
		}
	}
	street := strings.Join(parts, " ")
	full := street
	var tail []string
	for _, p := range []*string{a.city, a.state} {
		if p != nil && *p != "" {
			tail = append(tail, *p)
		}
	}
	if len(tail) > 0 {
		full += ", " + strings.Join(tail, ", ")
	}
	if a.zip != nil && *a.zip != "" {
		full += " " + *a.zip
	}
	return map[string]any{"id": a.id, "address1": strOrNil(a.address1), "address2": strOrNil(a.address2),
		"city": strOrNil(a.city), "state": strOrNil(a.state), "zip": strOrNil(a.zip),
		"streetAddress": street, "fullAddress": full}
}

type customer struct {
	id, shop         int64
	firstName        string
	lastName         *string
	emails           []string
	phones           []phone
	customerType     int64
	address          *address
	notes            *string
	okForMarketing   bool
	created, updated time.Time
	deleted          *time.Time
}

func (c *customer) rowID() int64           { return c.id }
func (c *customer) rowShop() int64         { return c.shop }
func (c *customer) rowUpdated() time.Time  { return c.updated }
func (c *customer) rowDeleted() *time.Time { return c.deleted }

// json is the customer as Tekmetric answers it: "email" is one address (a
// string, although writes take a list) and "phone" the list of phone
// objects.
func (c *customer) json() map[string]any {
	var email any
	if len(c.emails) > 0 {
		email = c.emails[0]
	}
	ps := make([]map[string]any, 0, len(c.phones))
	for _, p := range c.phones {
		ps = append(ps, map[string]any{"id": p.id, "number": p.number, "type": strOrNil(p.typ), "primary": p.primary})
	}
	code, name := "PERSON", "Person"
	if c.customerType == 2 {
		code, name = "BUSINESS", "Business"
	}
	return map[string]any{
		"id": c.id, "firstName": c.firstName, "lastName": strOrNil(c.lastName), "email": email, "phone": ps,
		"customerType":     map[string]any{"id": c.customerType, "code": code, "name": name},
		"contactFirstName": nil, "contactLastName": nil, "address": c.address.json(), "notes": strOrNil(c.notes),
		"shopId": c.shop, "okForMarketing": c.okForMarketing, "createdDate": fmtTime(c.created),
		"updatedDate": fmtTime(c.updated), "deletedDate": timeOrNil(c.deleted, fmtTime), "birthday": nil,
	}
}

// found reports whether a search term finds the customer: a substring of
// a name, the full name or an email, or a phone number by its digits (by
// the number as stored with Options.RawPhoneSearch).
func (c *customer) found(term string, raw bool) bool {
	last := ""
	if c.lastName != nil {
		last = *c.lastName
	}
	if matches(term, append([]string{c.firstName, last, c.firstName + " " + last}, c.emails...)...) {
		return true
	}
	for _, p := range c.phones {
		if raw && matches(term, p.number) || !raw && phoneLike(term) && strings.Contains(digits(p.number), digits(term)) {
			return true
		}
	}
	return false
}

func (s *Server) handleListCustomers(w http.ResponseWriter, r *http.Request, c *client) {
	q, err := s.parseList(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad request: a query parameter could not be read")
		return
	}
	if q.shop != 0 && !c.reaches(q.shop) {
		forbidden(w)
		return
	}
	s.mu.Lock()
	var rows []row
	for _, cu := range s.customers {
		switch {
		case !visible(cu, q, c, false):
		case q.search != "" && !cu.found(q.search, s.o.RawPhoneSearch):
		case q.okForMarketing != "" && strconv.FormatBool(cu.okForMarketing) != q.okForMarketing:
		case q.customerTy != "" && strconv.FormatInt(cu.customerType, 10) != q.customerTy:
		default:
			rows = append(rows, cu)
		}
	}
	s.mu.Unlock()
	writePage(w, rows, q, func(r row, key string) string {
		cu := r.(*customer)
		switch key {
		case "firstName":
			return cu.firstName
		case "lastName":
			return deref(cu.lastName)
		case "email":
			return strings.Join(cu.emails, ",")
		}
		return ""
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Server) handleGetCustomer(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	s.mu.Lock()
	cu := s.customers[id]
	var out map[string]any
	if cu != nil && c.reaches(cu.shop) {
		out = cu.json()
	}
	s.mu.Unlock()
	switch {
	case cu == nil:
		writeError(w, http.StatusNotFound, "Customer not found")
	case out == nil:
		forbidden(w)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) handleCreateCustomer(w http.ResponseWriter, r *http.Request, c *client) {
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	shopID, ok := bodyInt(body["shopId"])
	if !ok {
		writeInvalid(w, "shopId", "must not be null")
		return
	}
	if !c.reaches(shopID) {
		forbidden(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := &customer{shop: shopID, customerType: 1}
	if field, msg := s.applyCustomer(cu, body, true); field != "" {
		writeInvalid(w, field, msg)
		return
	}
	cu.id = s.newID()
	cu.created = s.stamp()
	cu.updated = cu.created
	s.customers[cu.id] = cu
	writeSuccess(w, "Customer created", cu.json())
}

func (s *Server) handleUpdateCustomer(w http.ResponseWriter, r *http.Request, c *client) {
	id, _ := pathID(r)
	body, err := decodeBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.customers[id]
	switch {
	case cu == nil || cu.deleted != nil:
		writeError(w, http.StatusNotFound, "Customer not found")
		return
	case !c.reaches(cu.shop):
		forbidden(w)
		return
	}
	next := *cu
	next.phones = append([]phone(nil), cu.phones...)
	if field, msg := s.applyCustomer(&next, body, false); field != "" {
		writeInvalid(w, field, msg)
		return
	}
	next.updated = s.stamp()
	*cu = next
	writeSuccess(w, "Customer updated", cu.json())
}

// applyCustomer writes a create or PATCH body onto cu; it returns the
// offending field and why when the body is refused. Callers hold s.mu.
func (s *Server) applyCustomer(cu *customer, body map[string]any, create bool) (string, string) {
	if v, ok := body["firstName"]; ok || create {
		name, isStr := v.(string)
		if !isStr || strings.TrimSpace(name) == "" {
			return "firstName", "must not be blank"
		}
		cu.firstName = name
	}
	for key, dst := range map[string]**string{"lastName": &cu.lastName, "notes": &cu.notes} {
		if v, ok := body[key]; ok {
			str, isStr := bodyString(v)
			if !isStr {
				return key, "must be a string"
			}
			*dst = str
		}
	}
	if v, ok := body["customerTypeId"]; ok {
		n, isInt := bodyInt(v)
		if !isInt || n != 1 && n != 2 {
			return "customerTypeId", "must be 1 or 2"
		}
		cu.customerType = n
	}
	if v, ok := body["okForMarketing"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return "okForMarketing", "must be a boolean"
		}
		cu.okForMarketing = b
	}
	if v, ok := body["email"]; ok {
		list, isList := v.([]any)
		if !isList {
			return "email", "must be a list of email addresses"
		}
		cu.emails = nil
		for _, e := range list {
			str, isStr := e.(string)
			if !isStr || !strings.Contains(str, "@") {
				return "email", "must hold valid email addresses"
			}
			cu.emails = append(cu.emails, str)
		}
	}
	if v, ok := body["phone"]; ok && create { // deprecated: a list of numbers
		list, _ := v.([]any)
		cu.phones = nil
		for i, p := range list {
			str, _ := p.(string)
			cu.phones = append(cu.phones, phone{id: s.newID(), number: str, primary: i == 0})
		}
	}
	if v, ok := body["phones"]; ok {
		if field, msg := s.applyPhones(cu, v); field != "" {
			return field, msg
		}
	}
	if v, ok := body["address"]; ok {
		if field, msg := s.applyAddress(cu, v); field != "" {
			return field, msg
		}
	}
	return "", ""
}

// applyPhones replaces the phone list: entries with an id keep it (the
// phone is updated), entries without get a new one.
func (s *Server) applyPhones(cu *customer, v any) (string, string) {
	list, ok := v.([]any)
	if !ok {
		return "phones", "must be a list of phones"
	}
	var out []phone
	for _, it := range list {
		m, ok := it.(map[string]any)
		number, _ := m["number"].(string)
		if !ok || strings.TrimSpace(number) == "" {
			return "phones", "every phone needs a number"
		}
		p := phone{number: number}
		if id, has := bodyInt(m["id"]); has {
			known := false
			for _, old := range cu.phones {
				known = known || old.id == id
			}
			if !known {
				return "phones", "phone " + strconv.FormatInt(id, 10) + " is not this customer's"
			}
			p.id = id
		} else {
			p.id = s.newID()
		}
		p.typ, _ = bodyString(m["type"])
		p.primary, _ = m["primary"].(bool)
		out = append(out, p)
	}
	cu.phones = out
	return "", ""
}

// applyAddress sets the given address fields (null clears the address).
func (s *Server) applyAddress(cu *customer, v any) (string, string) {
	if v == nil {
		cu.address = nil
		return "", ""
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "address", "must be an object"
	}
	next := &address{id: s.newID()}
	if cu.address != nil {
		cp := *cu.address
		next = &cp
	}
	for key, dst := range map[string]**string{"address1": &next.address1, "address2": &next.address2,
		"city": &next.city, "state": &next.state, "zip": &next.zip} {
		if val, has := m[key]; has {
			str, isStr := bodyString(val)
			if !isStr {
				return "address." + key, "must be a string"
			}
			*dst = str
		}
	}
	cu.address = next
	return "", ""
}

// DeleteCustomer deletes a customer as a shop does in Tekmetric's app (the
// API cannot): it disappears from lists and searches and shows in the
// deleted filters. It reports whether the customer existed.
func (s *Server) DeleteCustomer(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.customers[id]
	if cu == nil || cu.deleted != nil {
		return false
	}
	t := s.stamp()
	cu.deleted, cu.updated = &t, t
	return true
}
