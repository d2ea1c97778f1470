// Command athena is the crmhost driver plugin for athenahealth's athenaOne
// API. The host launches it; run by hand it prints a message and exits.
package main

import (
	"crmhost.dev/plugins/athena/athena"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(athena.New()) }
