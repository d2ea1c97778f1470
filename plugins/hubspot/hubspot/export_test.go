package hubspot

// Internals exposed to the external hubspot_test package.
var (
	Classify      = classify
	PhoneVariants = phoneVariants
)
