// Package e2e holds crmhost's end-to-end tests and benchmarks (all in its
// _test files). They start the host in-process for real (SQLite store,
// local-key keyring, driver supervisor, broker and HTTP server) with the
// real crm-driver-hubspot binary, against the HubSpot fake, and speak to
// it only over HTTP, as the agent and an operator do.
//
// The driver binaries come from CRMHOST_PLUGIN_DIR (make test sets it to
// bin/plugins); without it the tests build crm-driver-hubspot themselves.
package e2e
