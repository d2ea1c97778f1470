package outbound

// Internals exposed to the external outbound_test package.
var (
	FieldValue = fieldValue
	Changes    = changes
	Matches    = matches
)
