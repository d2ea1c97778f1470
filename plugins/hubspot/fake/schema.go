package fake

import (
	"net/http"
	"strings"
	"time"
)

// Property types and field types as HubSpot's properties API names them.
const (
	typeString   = "string"
	typeNumber   = "number"
	typeDateTime = "datetime"
	typeEnum     = "enumeration"
)

// propertyDef is one property of an object type.
type propertyDef struct {
	Name, Label, Type, FieldType, Group string
	Options                             []string // enumeration values
	Unique                              bool     // hasUniqueValue
	ReadOnly                            bool     // value set by HubSpot only
	Calculated                          bool
	Custom                              bool // not hubspotDefined
}

// objectType is one CRM object type the fake serves.
type objectType struct {
	Name         string // "contacts"
	ID           string // "0-1"
	Singular     string // "Contact", as in "Contact already exists"
	Upper        string // "CONTACT", as in batch error messages
	LastModified string // the modified-date property
	Props        []propertyDef
	Defaults     []string // properties answered when none are requested
	Searchable   []string // properties a search `query` looks at
}

func (t *objectType) prop(name string) (propertyDef, bool) {
	for _, p := range t.Props {
		if p.Name == name {
			return p, true
		}
	}
	return propertyDef{}, false
}

// always are the properties HubSpot answers even when others are requested.
func (t *objectType) always() []string {
	return []string{"createdate", "hs_object_id", t.LastModified}
}

const idempotencyProp = "crmhost_idempotency_key"

func system(lastModified string) []propertyDef {
	return []propertyDef{
		{Name: idempotencyProp, Label: "crmhost idempotency key", Type: typeString, FieldType: "text", Group: "crmhost", Unique: true, Custom: true},
		{Name: "createdate", Label: "Create Date", Type: typeDateTime, FieldType: "date", Group: "system"},
		{Name: lastModified, Label: "Last Modified Date", Type: typeDateTime, FieldType: "date", Group: "system", ReadOnly: true, Calculated: true},
		{Name: "hs_object_id", Label: "Record ID", Type: typeNumber, FieldType: "number", Group: "system", ReadOnly: true, Calculated: true},
	}
}

var objectTypes = []*objectType{
	{
		Name: "contacts", ID: "0-1", Singular: "Contact", Upper: "CONTACT", LastModified: "lastmodifieddate",
		Props: append([]propertyDef{
			{Name: "email", Label: "Email", Type: typeString, FieldType: "text", Group: "contactinformation"},
			{Name: "firstname", Label: "First Name", Type: typeString, FieldType: "text", Group: "contactinformation"},
			{Name: "lastname", Label: "Last Name", Type: typeString, FieldType: "text", Group: "contactinformation"},
			{Name: "phone", Label: "Phone Number", Type: typeString, FieldType: "phonenumber", Group: "contactinformation"},
			{Name: "mobilephone", Label: "Mobile Phone Number", Type: typeString, FieldType: "phonenumber", Group: "contactinformation"},
			{Name: "company", Label: "Company Name", Type: typeString, FieldType: "text", Group: "contactinformation"},
			{Name: "lifecyclestage", Label: "Lifecycle Stage", Type: typeEnum, FieldType: "radio", Group: "contactinformation",
				Options: []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"}},
			{Name: "hs_lead_status", Label: "Lead Status", Type: typeEnum, FieldType: "radio", Group: "sales_properties",
				Options: []string{"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING"}},
		}, system("lastmodifieddate")...),
		Defaults:   []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"},
		Searchable: []string{"firstname", "lastname", "email", "phone", "mobilephone", "company"},
	},
	{
		Name: "deals", ID: "0-3", Singular: "Deal", Upper: "DEAL", LastModified: "hs_lastmodifieddate",
		Props: append([]propertyDef{
			{Name: "dealname", Label: "Deal Name", Type: typeString, FieldType: "text", Group: "dealinformation"},
			{Name: "amount", Label: "Amount", Type: typeNumber, FieldType: "number", Group: "dealinformation"},
			{Name: "dealstage", Label: "Deal Stage", Type: typeEnum, FieldType: "radio", Group: "dealinformation",
				Options: []string{"appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"}},
			{Name: "pipeline", Label: "Pipeline", Type: typeEnum, FieldType: "select", Group: "dealinformation", Options: []string{"default"}},
			{Name: "closedate", Label: "Close Date", Type: typeDateTime, FieldType: "date", Group: "dealinformation"},
		}, system("hs_lastmodifieddate")...),
		Defaults:   []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"},
		Searchable: []string{"dealname"},
	},
	{
		Name: "tickets", ID: "0-5", Singular: "Ticket", Upper: "TICKET", LastModified: "hs_lastmodifieddate",
		Props: append([]propertyDef{
			{Name: "subject", Label: "Ticket name", Type: typeString, FieldType: "text", Group: "ticketinformation"},
			{Name: "content", Label: "Ticket description", Type: typeString, FieldType: "textarea", Group: "ticketinformation"},
			{Name: "hs_pipeline", Label: "Pipeline", Type: typeEnum, FieldType: "select", Group: "ticketinformation", Options: []string{"0"}},
			{Name: "hs_pipeline_stage", Label: "Ticket status", Type: typeEnum, FieldType: "select", Group: "ticketinformation", Options: []string{"1", "2", "3", "4"}},
			{Name: "hs_ticket_priority", Label: "Priority", Type: typeEnum, FieldType: "select", Group: "ticketinformation", Options: []string{"LOW", "MEDIUM", "HIGH", "URGENT"}},
		}, system("hs_lastmodifieddate")...),
		Defaults:   []string{"content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "subject"},
		Searchable: []string{"subject", "content"},
	},
	{
		// Notes are engagements: a timestamped body, associated with the
		// records they are about (a contact, through Associations v4).
		Name: "notes", ID: "0-46", Singular: "Note", Upper: "NOTE", LastModified: "hs_lastmodifieddate",
		Props: append([]propertyDef{
			{Name: "hs_note_body", Label: "Note body", Type: typeString, FieldType: "html", Group: "engagement"},
			{Name: "hs_timestamp", Label: "Activity date", Type: typeDateTime, FieldType: "date", Group: "engagement"},
		}, system("hs_lastmodifieddate")...),
		Defaults:   []string{"createdate", "hs_lastmodifieddate", "hs_note_body", "hs_object_id", "hs_timestamp"},
		Searchable: []string{"hs_note_body"},
	},
}

// lookupType resolves a path's object type: a name ("contacts") or an
// object type id ("0-1"), case-insensitively as HubSpot does.
func lookupType(name string) (*objectType, bool) {
	for _, t := range objectTypes {
		if strings.EqualFold(name, t.Name) || name == t.ID {
			return t, true
		}
	}
	return nil, false
}

// wireOption and wireProperty follow the properties spec's Option and
// Property schemas.
type wireOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type wireModification struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
}

type wireProperty struct {
	Name                 string           `json:"name"`
	Label                string           `json:"label"`
	Type                 string           `json:"type"`
	FieldType            string           `json:"fieldType"`
	Description          string           `json:"description"`
	GroupName            string           `json:"groupName"`
	Options              []wireOption     `json:"options"`
	CreatedAt            string           `json:"createdAt"`
	UpdatedAt            string           `json:"updatedAt"`
	DisplayOrder         int              `json:"displayOrder"`
	Calculated           bool             `json:"calculated"`
	ExternalOptions      bool             `json:"externalOptions"`
	HasUniqueValue       bool             `json:"hasUniqueValue"`
	Hidden               bool             `json:"hidden"`
	HubspotDefined       bool             `json:"hubspotDefined,omitempty"`
	ModificationMetadata wireModification `json:"modificationMetadata"`
	FormField            bool             `json:"formField"`
	Archived             bool             `json:"archived"`
	DataSensitivity      string           `json:"dataSensitivity"`
}

// propertiesEpoch is when the fake's properties were "created".
var propertiesEpoch = time.Date(2019, 8, 6, 2, 43, 14, 0, time.UTC)

func (p propertyDef) wire(order int) wireProperty {
	opts := []wireOption{}
	for i, o := range p.Options {
		opts = append(opts, wireOption{Label: o, Value: o, DisplayOrder: i})
	}
	return wireProperty{
		Name: p.Name, Label: p.Label, Type: p.Type, FieldType: p.FieldType, GroupName: p.Group,
		Description: "", Options: opts,
		CreatedAt: formatTime(propertiesEpoch), UpdatedAt: formatTime(propertiesEpoch),
		DisplayOrder: order, Calculated: p.Calculated, HasUniqueValue: p.Unique,
		HubspotDefined:       !p.Custom,
		ModificationMetadata: wireModification{Archivable: p.Custom, ReadOnlyDefinition: !p.Custom, ReadOnlyValue: p.ReadOnly},
		FormField:            !p.ReadOnly && p.Type != typeDateTime, DataSensitivity: "non_sensitive",
	}
}

// handleProperties serves GET /crm/v3/properties/{objectType}.
func (s *Server) handleProperties(w http.ResponseWriter, r *http.Request) {
	t, ok := lookupType(r.PathValue("objectType"))
	if !ok {
		writeError(w, unknownType(r.PathValue("objectType")))
		return
	}
	out := []wireProperty{}
	if r.URL.Query().Get("archived") != "true" {
		for i, p := range t.Props {
			out = append(out, p.wire(i))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}
