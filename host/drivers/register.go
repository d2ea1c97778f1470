package drivers

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"crmhost.dev/host"
)

// Registrar is the part of the store that registration writes.
type Registrar interface {
	RegisterDriver(ctx context.Context, e host.DriverEntry) (host.DriverEntry, error)
}

// validSlug is what a driver may call itself.
var validSlug = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// registerTimeout bounds the Describe of a binary being registered.
const registerTimeout = 10 * time.Second

// Register registers the driver binary named file in the plugin
// directory, taking no arguments and no checksum from the caller: it
// opens the file after the checks of binary.go, computes its SHA-256
// through the open file, launches exactly that file (see exec_linux.go),
// asks its Describe and checks the answer (a valid slug that is not a
// reserved alias, equal to slug when slug is given; a protocol version the
// host speaks), then stores the entry {slug, version, file, sha256,
// protocol versions} and stops any process of the slug's previous binary.
// The drivers it launches get the driver environment (Options.DriverEnv).
//
// Errors: CodeInvalid naming "file" (not a plain file name, no such file,
// unsafe ownership or mode, not a working crmhost driver) or "slug" (the
// binary describes another or a reserved slug); the store's errors.
// Nothing is stored on an error, and the launched process is always
// stopped.
func (m *Manager) Register(ctx context.Context, reg Registrar, file, slug string) (host.DriverEntry, error) {
	return m.register(ctx, reg, file, slug, "")
}

// RegisterAs registers the driver binary named file as Register does, but
// under the slug as instead of the one it describes (as empty: the one it
// describes): a catalog entry of its own for a provider whose connections
// another driver's binary serves, such as a configurable bridge against a
// partner-side adapter. The alias is data: it launches only while the
// binary's own slug is registered with the same checksum, so an upgrade
// re-registers both.
// Errors: Register's, and CodeInvalid naming "slug" for an as that is not
// a valid slug.
func (m *Manager) RegisterAs(ctx context.Context, reg Registrar, file, as string) (host.DriverEntry, error) {
	if as != "" && !validSlug.MatchString(as) {
		return host.DriverEntry{}, &host.Error{Code: host.CodeInvalid, Field: "slug",
			Message: fmt.Sprintf("%q is not a valid driver slug (lower-case letters, digits, - and _)", as)}
	}
	return m.register(ctx, reg, file, "", as)
}

func (m *Manager) register(ctx context.Context, reg Registrar, file, slug, as string) (host.DriverEntry, error) {
	invalid := func(field, format string, args ...any) error {
		return &host.Error{Code: host.CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	bin, err := openBinary(m.opts.PluginDir, file)
	if err != nil {
		return host.DriverEntry{}, invalid("file", "%v", err)
	}
	defer bin.close()
	log := m.log.Named("register").With("file", file)
	pc, cl, err := launch(bin, log, m.opts.StartTimeout, m.opts.DriverEnv, m.opts.TraceEnv)
	if err != nil {
		log.Warn("registration refused: the binary did not start as a driver", "path", bin.path, "error", err)
		return host.DriverEntry{}, invalid("file", "%q is not a working crmhost driver: it did not complete the plugin handshake", file)
	}
	defer pc.Kill()
	dctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	desc, err := cl.Describe(dctx)
	if err != nil {
		log.Warn("registration refused: Describe failed", "error", err)
		return host.DriverEntry{}, invalid("file", "%q is not a working crmhost driver: Describe failed", file)
	}
	switch {
	case !validSlug.MatchString(desc.Slug):
		return host.DriverEntry{}, invalid("slug", "%q describes itself as %q, which is not a valid driver slug (lower-case letters, digits, - and _)", file, desc.Slug)
	case m.opts.Aliases[desc.Slug] != "":
		return host.DriverEntry{}, invalid("slug", "%q describes itself as %q, a slug reserved for the %s driver", file, desc.Slug, m.opts.Aliases[desc.Slug])
	case slug != "" && slug != desc.Slug:
		return host.DriverEntry{}, invalid("slug", "%q describes itself as %q, not %q", file, desc.Slug, slug)
	case !slices.Contains(desc.ProtocolVersions, cl.ProtocolVersion()):
		return host.DriverEntry{}, invalid("file", "%q negotiated protocol %d but describes protocols %v", file, cl.ProtocolVersion(), desc.ProtocolVersions)
	}
	stored := desc.Slug
	if as != "" {
		stored = as
	}
	e, err := reg.RegisterDriver(ctx, host.DriverEntry{Slug: stored, Version: desc.DriverVersion, Command: file,
		SHA256: bin.sum, ProtocolVersions: desc.ProtocolVersions})
	if err != nil {
		return host.DriverEntry{}, err
	}
	m.Forget(e.Slug)
	log.Info("driver registered", "slug", e.Slug, "version", e.Version, "sha256", e.SHA256)
	return e, nil
}
