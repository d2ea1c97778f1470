// Command crmhost-dev runs crmhost in dev mode against fake providers; it
// is what `make run` starts:
//
//	crmhost-dev -host bin/crmhost -plugins bin/plugins -dir .crmhost [-- extra host args]
//
// It starts the fake provider of every driver whose binary is in the
// plugins folder (see dev.Fakes) on 127.0.0.1, each behind a proxy that
// keeps the previous run's address and replays the writes the fake
// accepted then (see dev.StartFakes), so a second `make run` on the same
// folder finds the demo as it was left. It writes their credentials to
// <dir>/fakes.json, and runs `<host> dev -dir <dir> -plugins <plugins>
// -fakes <dir>/fakes.json [extra args]` as a child process with its output
// passed through. The host registers the drivers, seeds one tenant per
// fake, writes <dir>/dev.json and prints curl commands to try.
//
// To start clean, remove <dir> (rm -rf .crmhost): database, dev keys and
// the fakes' data go with it.
//
// SIGINT and SIGTERM are forwarded to the host. When the host exits the
// fakes are stopped and crmhost-dev exits with the host's status.
//
// The command lives outside the host module because it imports each
// driver's fake package, and the host never names a provider.
package main
