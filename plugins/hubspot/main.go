// Command hubspot is the crmhost driver plugin for HubSpot CRM. The host
// launches it; run by hand it prints a message and exits.
package main

import (
	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(hubspot.New()) }
