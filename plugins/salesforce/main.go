// Command salesforce is the crmhost driver plugin for Salesforce. The host
// launches it; run by hand it prints a message and exits.
package main

import (
	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(salesforce.New()) }
