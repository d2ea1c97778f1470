// Command crm-driver-mem serves the in-memory reference driver as a plugin
// for the host's tests.
package main

import (
	"crmhost.dev/host/internal/memdriver"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(memdriver.New()) }
