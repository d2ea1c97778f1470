// Package drivers registers, launches and supervises driver plugin
// binaries, which it treats as untrusted code.
//
// A driver runs only from the host's plugin directory, by file name:
// Register (the CLI's and the operator API's registration) opens a binary
// there after ownership and mode checks, hashes it through the open file,
// launches exactly that file, checks its Describe and only then stores the
// catalog entry; nothing the caller supplies is executed or passed as an
// argument. Every launch repeats the checks and, on Linux, executes the
// file it hashed (/proc/self/fd/N), so a binary swapped in the directory
// between checksum and exec never runs (binary.go, exec_linux.go). A
// driver process starts with an empty environment plus the sdk's
// allowlist (sdk.DriverEnv).
//
// A Manager keeps one supervised process per driver slug, found in the
// catalog (the store's DriverCatalog). It starts a driver lazily on its
// first call, speaks to it over go-plugin's gRPC transport with AutoMTLS
// and protocol negotiation, caches its Describe answer, pings it,
// restarts it with backoff after any exit, bounds each driver's concurrent
// calls, puts a deadline on every call, and kills every process on Close.
// Calls caught by a driver's death get a host error with
// CodeDriverUnavailable whose message names no path or checksum (those go
// to the log and to Status, for operators); the next call after the
// restart succeeds.
package drivers
