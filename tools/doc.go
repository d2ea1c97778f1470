// Package tools pins the code generators the repository needs and nothing
// else: `make proto` runs buf from this module (GOWORK=off), so generating
// the driver protocol's Go code needs only Go, never a system protoc. It is
// kept out of go.work so the generators' dependencies never reach the sdk,
// the host or a driver.
package tools
