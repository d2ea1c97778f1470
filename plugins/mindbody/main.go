// Command mindbody is the crmhost driver plugin for Mindbody. The host
// launches it; run by hand it prints a message and exits.
package main

import (
	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(mindbody.New()) }
