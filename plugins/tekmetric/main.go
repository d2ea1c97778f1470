// Command tekmetric is the crmhost driver plugin for Tekmetric, the auto
// repair shop management system. The host launches it; run by hand it
// prints a message and exits.
package main

import (
	"crmhost.dev/plugins/tekmetric/tekmetric"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(tekmetric.New()) }
