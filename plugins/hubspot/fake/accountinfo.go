package fake

import "net/http"

// accountInfoPath is HubSpot's account details endpoint (GET
// /account-info/v3/details): the portal a token belongs to, for private-app
// tokens as for OAuth ones. No spec of it is in shared/specs, so the fake
// serves it from HubSpot's documentation without validating requests.
const accountInfoPath = "/account-info/v3/details"

// handleAccountInfo answers the portal of the request's bearer token.
func (s *Server) handleAccountInfo(w http.ResponseWriter, r *http.Request) {
	_, pt, e := s.authenticate(r)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"portalId": pt.id, "accountType": "STANDARD", "timeZone": "US/Eastern",
		"companyCurrency": "USD", "additionalCurrencies": []string{}, "utcOffset": "-05:00",
		"utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1",
	})
}
