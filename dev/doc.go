// Package dev is crmhost's development harness: the table of fake
// providers that `make run` starts next to the host, and (in its
// subpackages) the crmhost-dev command and the end-to-end tests.
//
// It is a module of its own, outside the host, because it names providers:
// it imports each driver's fake package, which the host must never do (the
// host learns everything about a provider from its driver's Describe).
// Adding a driver to dev mode is one line in Fakes.
package dev
