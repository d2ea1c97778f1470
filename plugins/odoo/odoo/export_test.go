package odoo

import "crmhost.dev/sdk"

// ClassifyFault exposes classifyFault to the external tests.
func ClassifyFault(name, message string, status int) *sdk.Error {
	return classifyFault(fault{Name: name, Message: message, Status: status})
}
