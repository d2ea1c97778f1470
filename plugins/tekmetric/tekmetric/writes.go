package tekmetric

import (
	"maps"
	"slices"
	"strings"
	"time"

	"crmhost.dev/sdk"
)

// The fields the driver writes, by object (Tekmetric's names). Tekmetric
// ignores fields it does not know, so the driver refuses them rather than
// report a write that did not happen.
var (
	customerWritable    = []string{"firstName", "lastName", "email", "phone", "phones", "notes", "okForMarketing", "customerTypeId", "address"}
	addressKeys         = []string{"address1", "address2", "city", "state", "zip"}
	repairOrderWritable = []string{"keyTag", "milesIn", "milesOut", "technicianId", "serviceWriterId", "customerTimeOut"}
	appointmentWritable = []string{"customerId", "vehicleId", "startTime", "endTime", "title", "description", "color", "dropoffTime", "pickupTime", "rideOption"}
	appointmentColors   = []string{"red", "pink", "yellow", "orange", "light green", "green", "blue", "navy", "lavender", "purple"}
)

// region is the connection's default phone region.
func (s *session) region() string {
	return strings.ToUpper(s.conn.Get(sdk.ConfigDefaultRegion, "US"))
}

// body builds the JSON body of a create (current nil) or a PATCH of the
// record current. Errors: CodeInvalid naming fields.<name>.
func (s *session) body(k kind, fields map[string]any, current map[string]any) (map[string]any, error) {
	switch k.name {
	case objCustomers:
		return s.customerBody(k, fields, current)
	case objRepairOrders:
		return repairOrderBody(k, fields)
	case objAppointments:
		return s.appointmentBody(k, fields, current == nil)
	}
	return nil, sdk.Invalid("object", "%q cannot be written", k.name)
}

// customerBody: firstName, lastName, notes, okForMarketing and
// customerTypeId as Tekmetric takes them; email (a string, or a list)
// becomes Tekmetric's email list; phone (one number) becomes the primary
// entry of Tekmetric's phones list, keeping the other phones and the
// primary's id on a PATCH; phones passes Tekmetric's own list through;
// address (or address.city and the like through the mapping) is merged
// over the current address. A create needs firstName.
func (s *session) customerBody(k kind, fields map[string]any, current map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if _, both := fields["phones"]; both && fields["phone"] != nil {
		return nil, sdk.Invalid("fields.phones", "give phone (the primary number) or phones (Tekmetric's whole list), not both")
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v, field := fields[name], "fields."+name
		var err error
		switch name {
		case "firstName":
			var first string
			if first, err = asString(field, v); err == nil && strings.TrimSpace(first) == "" {
				err = sdk.Invalid(field, "must not be empty: Tekmetric requires a customer's first name")
			}
			out[name] = first
		case "lastName", "notes":
			out[name], err = nullableString(field, v)
		case "okForMarketing":
			out[name], err = asBool(field, v)
		case "customerTypeId":
			var n int64
			if n, err = asInt(field, v); err == nil && n != 1 && n != 2 {
				err = sdk.Invalid(field, "must be 1 (person) or 2 (business), not %d", n)
			}
			out[name] = n
		case "email":
			out["email"], err = emailList(field, v)
		case "phone":
			out["phones"], err = s.primaryPhoneList(field, v, current)
		case "phones":
			out["phones"], err = phoneList(field, v)
		case "address":
			out["address"], err = addressOf(field, v, current)
		default:
			return nil, unknownField(k, name, customerWritable)
		}
		if err != nil {
			return nil, err
		}
	}
	if current == nil {
		if _, ok := out["firstName"]; !ok {
			return nil, sdk.Invalid("fields.firstName", "is required: Tekmetric creates a customer only with a first name")
		}
		out["shopId"] = mustInt(s.shop)
	}
	return out, nil
}

// emailList turns an email value into Tekmetric's list of addresses: a
// string is the one address (empty or null: none), a list is taken as
// it is.
func emailList(field string, v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, sdk.Invalid(field, "must list email addresses (strings)")
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	}
	s, err := asString(field, v)
	if err != nil {
		return nil, err
	}
	if s = strings.TrimSpace(s); s == "" {
		return []string{}, nil
	}
	if !strings.Contains(s, "@") {
		return nil, sdk.Invalid(field, "%q is not an email address", s)
	}
	return []string{s}, nil
}

// primaryPhoneList sets one number as the customer's primary phone: on a
// create it is the only phone; on a PATCH it replaces the current primary
// number (keeping that entry's id and type, and the other phones). Null
// or "" removes the primary phone.
func (s *session) primaryPhoneList(field string, v any, current map[string]any) ([]map[string]any, error) {
	number := ""
	if v != nil {
		raw, err := asString(field, v)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(raw) != "" {
			if number, err = formatPhone(raw, s.region(), field); err != nil {
				return nil, err
			}
		}
	}
	var list []map[string]any
	if current != nil {
		cur, _ := current["phone"].([]any)
		primary := -1
		for i, p := range cur {
			if m, ok := p.(map[string]any); ok && (m["primary"] == true || primary < 0 && i == 0) {
				primary = i
			}
		}
		for i, p := range cur {
			m, ok := p.(map[string]any)
			if !ok {
				continue
			}
			entry := map[string]any{"number": m["number"], "type": m["type"], "primary": m["primary"] == true}
			if id, ok := m["id"].(float64); ok {
				entry["id"] = int64(id)
			}
			if i == primary {
				if number == "" {
					continue
				}
				entry["number"], entry["primary"] = number, true
				number = ""
			}
			list = append(list, entry)
		}
	}
	if number != "" {
		list = append(list, map[string]any{"number": number, "type": "Mobile", "primary": true})
	}
	if list == nil {
		list = []map[string]any{}
	}
	return list, nil
}

// phoneList passes Tekmetric's own phones list through, checked.
func phoneList(field string, v any) ([]map[string]any, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, sdk.Invalid(field, "must be a list of phone objects {number, type, primary} (or write phone for one number)")
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, sdk.Invalid(field, "must be a list of phone objects {number, type, primary}")
		}
		entry := map[string]any{}
		for key, val := range m {
			var err error
			switch key {
			case "id":
				entry[key], err = asInt(field+".id", val)
			case "number":
				entry[key], err = asString(field+".number", val)
			case "type":
				entry[key], err = nullableString(field+".type", val)
			case "primary":
				entry[key], err = asBool(field+".primary", val)
			default:
				err = sdk.Invalid(field, "phone objects hold id, number, type and primary, not %q", key)
			}
			if err != nil {
				return nil, err
			}
		}
		if entry["number"] == nil || entry["number"] == "" {
			return nil, sdk.Invalid(field, "every phone needs a number")
		}
		out = append(out, entry)
	}
	return out, nil
}

// addressOf merges an address value (an object of address1, address2,
// city, state and zip; null clears them all) over the current address.
func addressOf(field string, v any, current map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if current != nil {
		if cur, ok := current["address"].(map[string]any); ok {
			for _, key := range addressKeys {
				if val, ok := cur[key]; ok {
					out[key] = val
				}
			}
		}
	}
	if v == nil {
		for _, key := range addressKeys {
			out[key] = nil
		}
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, sdk.Invalid(field, "must be an object of %s", strings.Join(addressKeys, ", "))
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(addressKeys, key) {
			return nil, sdk.Invalid(field+"."+key, "is not an address field Tekmetric keeps (%s)", strings.Join(addressKeys, ", "))
		}
		val, err := nullableString(field+"."+key, m[key])
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	return out, nil
}

// repairOrderBody: the only fields Tekmetric lets a partner change on a
// repair order.
func repairOrderBody(k kind, fields map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v, field := fields[name], "fields."+name
		var err error
		switch name {
		case "keyTag":
			out[name], err = nullableString(field, v)
		case "milesIn", "milesOut", "technicianId", "serviceWriterId":
			out[name], err = nullableInt(field, v)
		case "customerTimeOut":
			out[name], err = asTime(field, v)
		default:
			return nil, unknownField(k, name, repairOrderWritable)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appointmentBody: a create needs startTime, endTime and title, and gets
// the connection's shop; times are RFC 3339, sent in UTC.
func (s *session) appointmentBody(k kind, fields map[string]any, create bool) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		v, field := fields[name], "fields."+name
		var err error
		switch name {
		case "customerId", "vehicleId":
			out[name], err = nullableInt(field, v)
		case "startTime", "endTime", "dropoffTime", "pickupTime":
			out[name], err = asTime(field, v)
		case "title":
			var title string
			if title, err = asString(field, v); err == nil && strings.TrimSpace(title) == "" {
				err = sdk.Invalid(field, "must not be empty: Tekmetric requires an appointment's title")
			}
			out[name] = title
		case "description":
			out[name], err = nullableString(field, v)
		case "color":
			out[name], err = oneOf(field, v, appointmentColors...)
		case "rideOption":
			out[name], err = oneOf(field, v, "LOANER", "RIDE", "NONE")
		case "shopId":
			err = sdk.Invalid(field, "is the connection's shop (%s); it cannot be written", s.shop)
		default:
			return nil, unknownField(k, name, appointmentWritable)
		}
		if err != nil {
			return nil, err
		}
	}
	if create {
		for _, req := range []string{"startTime", "endTime", "title"} {
			if out[req] == nil {
				return nil, sdk.Invalid("fields."+req, "is required: Tekmetric creates an appointment only with a start time, an end time and a title")
			}
		}
		out["shopId"] = mustInt(s.shop)
	}
	if st, en := out["startTime"], out["endTime"]; st != nil && en != nil {
		a, _ := time.Parse(time.RFC3339, st.(string))
		b, _ := time.Parse(time.RFC3339, en.(string))
		if b.Before(a) {
			return nil, sdk.Invalid("fields.endTime", "is before startTime")
		}
	}
	return out, nil
}

// mustInt parses digits the driver has checked.
func mustInt(digits string) int64 {
	var n int64
	for _, c := range digits {
		n = n*10 + int64(c-'0')
	}
	return n
}
