// Command mindbody is the crmhost driver plugin for Mindbody. The host
// launches it; run by hand it prints a message and exits.
package main

import (
	// Sites' time zones (search windows, contact log times) resolve even
	// where the host has no zoneinfo: a driver starts with an empty
	// environment, possibly in a minimal image.
	_ "time/tzdata"

	"crmhost.dev/plugins/mindbody/mindbody"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(mindbody.New()) }
