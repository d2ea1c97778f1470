package fake

import "net/http"

// portal is one HubSpot account (hub) with its own objects: the fake
// serves two, so a driver that leaks one tenant's data into another's
// call is caught.
type portal struct {
	id      int
	token   string                        // its private-app token
	objects map[string]map[string]*record // type name -> id -> record
	blocked map[string]bool               // GDPR-blocklisted emails, lower case
	// associations are the default associations made (Associations v4).
	associations []association
}

func newPortal(id int, token string) *portal {
	return &portal{id: id, token: token, objects: map[string]map[string]*record{}, blocked: map[string]bool{}}
}

type portalKey struct{}

// portalOf is the portal a /crm/ request authenticated to.
func portalOf(r *http.Request) *portal {
	return r.Context().Value(portalKey{}).(*portal)
}

// privatePortal is the portal of a private-app token, or nil. Callers
// hold s.mu or read only immutable fields.
func (s *Server) privatePortal(token string) *portal {
	for _, pt := range s.portals {
		if pt.token == token {
			return pt
		}
	}
	return nil
}
