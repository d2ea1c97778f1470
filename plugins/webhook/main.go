// Command webhook is the crmhost driver plugin for the custom-webhook
// bridge: every verb becomes a signed request to the one endpoint a tenant
// maintains. The host launches it; run by hand it prints a message and
// exits.
package main

import (
	"crmhost.dev/plugins/webhook/webhook"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(webhook.New()) }
