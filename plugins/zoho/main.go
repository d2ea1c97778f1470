// Command zoho is the crmhost driver plugin for Zoho CRM. The host
// launches it; run by hand it prints a message and exits.
package main

import (
	"crmhost.dev/plugins/zoho/zoho"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(zoho.New()) }
