package fake

import (
	"net/http"
	"slices"
)

// association is one default association between two records.
type association struct{ fromType, fromID, toType, toID string }

// handleDefaultAssociation serves PUT /crm/v4/objects/{fromObjectType}/
// {fromObjectId}/associations/default/{toObjectType}/{toObjectId}:
// associates two records of the portal with HubSpot's default type (a
// note to a contact: 202), idempotently. A missing record is 404.
func (s *Server) handleDefaultAssociation(w http.ResponseWriter, r *http.Request) {
	from, ok := lookupType(r.PathValue("fromObjectType"))
	if !ok {
		writeError(w, unknownType(r.PathValue("fromObjectType")))
		return
	}
	to, ok := lookupType(r.PathValue("toObjectType"))
	if !ok {
		writeError(w, unknownType(r.PathValue("toObjectType")))
		return
	}
	pt := portalOf(r)
	fromID, toID := r.PathValue("fromObjectId"), r.PathValue("toObjectId")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := pt.find(from, fromID, "", false); e != nil {
		writeError(w, e)
		return
	}
	if _, e := pt.find(to, toID, "", false); e != nil {
		writeError(w, e)
		return
	}
	a := association{from.Name, fromID, to.Name, toID}
	if !slices.Contains(pt.associations, a) {
		pt.associations = append(pt.associations, a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "COMPLETE", "results": []any{map[string]any{
		"from": map[string]any{"id": fromID}, "to": map[string]any{"id": toID},
		"associationSpec": map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": defaultTypeID(from.Name, to.Name)}}}})
}

// defaultTypeID is HubSpot's default association type id for a pair
// (note to contact 202); 0 for pairs the fake does not know.
func defaultTypeID(from, to string) int {
	if from == "notes" && to == "contacts" {
		return 202
	}
	return 0
}

// Associated lists the ids of toType records the first portal's record
// fromType/fromID is associated with.
func (s *Server) Associated(fromType, fromID, toType string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.portals[0].associations {
		if a.fromType == fromType && a.fromID == fromID && a.toType == toType {
			out = append(out, a.toID)
		}
	}
	return out
}
