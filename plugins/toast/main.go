// Command toast is the crmhost driver plugin for Toast (restaurant POS).
// The host launches it; run by hand it prints a message and exits.
package main

import (
	"crmhost.dev/plugins/toast/toast"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(toast.New()) }
