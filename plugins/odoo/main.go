// Command odoo is the crmhost driver plugin for Odoo (JSON-RPC up to Odoo
// 18, JSON-2 from Odoo 19). The host launches it; run by hand it prints a
// message and exits.
package main

import (
	"crmhost.dev/plugins/odoo/odoo"
	"crmhost.dev/sdk"
)

func main() { sdk.Serve(odoo.New()) }
