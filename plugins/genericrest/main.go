// Command genericrest is the crmhost driver plugin for any REST API a
// tenant describes in a connector definition. The host launches it with no
// arguments; an operator runs it with one of the commands below (see
// README.md), which never start the plugin:
//
//	crm-driver-genericrest validate <definition.yaml>
//	crm-driver-genericrest generate <openapi.json|yaml or https URL>
//	crm-driver-genericrest dryrun -definition <file> -object <name> -verb <verb> [-input <json>]
package main

import (
	"os"

	"crmhost.dev/plugins/genericrest/genericrest"
	"crmhost.dev/sdk"
)

func main() {
	if len(os.Args) > 1 && genericrest.IsCommand(os.Args[1]) {
		os.Exit(genericrest.RunCommand(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	sdk.Serve(genericrest.New())
}
