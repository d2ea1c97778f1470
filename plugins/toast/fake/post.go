package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// postedOrder is the part of a posted Order the fake keeps.
type postedOrder struct {
	ExternalID   string `json:"externalId"`
	DiningOption *struct {
		GUID string `json:"guid"`
	} `json:"diningOption"`
	Checks []struct {
		Selections []struct {
			Item *struct {
				GUID string `json:"guid"`
			} `json:"item"`
			Quantity float64 `json:"quantity"`
		} `json:"selections"`
		Customer *struct {
			FirstName        string `json:"firstName"`
			LastName         string `json:"lastName"`
			Phone            string `json:"phone"`
			PhoneCountryCode string `json:"phoneCountryCode"`
			Email            string `json:"email"`
		} `json:"customer"`
	} `json:"checks"`
}

// handlePostOrder is POST /orders/v2/orders: the order is stored (source
// API, waiting for approval) and answered as an Order, with the GUIDs
// Toast assigns. It needs the orders.orders:write scope (403 otherwise),
// a dining option and checks whose selections name an item (400), and an
// externalId no other order of the restaurant has (400, as Toast refuses
// a duplicate: "the request will fail").
func (s *Server) handlePostOrder(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if !c.client.can("orders.orders:write") {
		writeError(w, newError(http.StatusForbidden, codeForbidden, "The client is missing the scope orders.orders:write"))
		return
	}
	var in postedOrder
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, badRequest("The request body is not an Order"))
		return
	}
	if e := validOrder(in); e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	if in.ExternalID != "" && c.restaurant.find(in.ExternalID) != nil {
		s.mu.Unlock()
		e := badRequest("An order with externalId %s already exists", in.ExternalID)
		field := "externalId"
		e.body.FieldName = &field
		writeError(w, e)
		return
	}
	now := s.o.Now().UTC().Truncate(time.Millisecond)
	s.display++
	o := &Order{GUID: uuid.NewString(), ExternalID: in.ExternalID, Created: now, Modified: now, Source: "API", DisplayNumber: fmt.Sprint(s.display)}
	for _, ch := range in.Checks {
		chk := Check{GUID: uuid.NewString()}
		for _, sel := range ch.Selections {
			chk.TotalAmount += 10 * sel.Quantity
		}
		if cu := ch.Customer; cu != nil {
			chk.Customer = &Customer{GUID: uuid.NewString(), FirstName: cu.FirstName, LastName: cu.LastName, Phone: cu.Phone,
				PhoneCountryCode: cu.PhoneCountryCode, Email: cu.Email}
		}
		o.Checks = append(o.Checks, chk)
	}
	c.restaurant.orders[o.GUID] = o
	out := orderJSON(o, c.client.can("guest.pi:read"))
	s.mu.Unlock()
	out["approvalStatus"] = "NEEDS_APPROVAL"
	writeJSON(w, http.StatusOK, out)
}

// validOrder checks what Toast checks of a posted order beyond its spec.
func validOrder(in postedOrder) *apiError {
	field := func(e *apiError, name string) *apiError {
		e.body.FieldName = &name
		return e
	}
	switch {
	case in.DiningOption == nil || in.DiningOption.GUID == "":
		return field(badRequest("An order needs a diningOption with a guid"), "diningOption")
	case len(in.Checks) == 0:
		return field(badRequest("An order needs at least one check"), "checks")
	}
	for _, ch := range in.Checks {
		if len(ch.Selections) == 0 {
			return field(badRequest("A check needs at least one selection"), "selections")
		}
		for _, sel := range ch.Selections {
			if sel.Item == nil || sel.Item.GUID == "" {
				return field(badRequest("A selection needs an item with a guid"), "item")
			}
		}
		if cu := ch.Customer; cu != nil && strings.TrimSpace(cu.Email) != "" && !strings.Contains(cu.Email, "@") {
			return field(badRequest("The customer's email is not an email address"), "email")
		}
	}
	return nil
}
