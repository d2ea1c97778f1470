package host

import (
	"context"
	"time"
)

// DriverEntry is one registered driver binary: what host/drivers launches
// for a provider slug, and the checksum it must have. A driver is launched
// with no arguments.
type DriverEntry struct {
	Slug    string
	Version string
	// Command is the binary's file name in the host's plugin directory
	// (host/drivers refuses to launch anything outside it).
	Command string
	// SHA256 is the hex checksum of Command, verified before launch.
	SHA256           string
	ProtocolVersions []int
	// RegisteredAt is when the entry was last registered.
	RegisteredAt time.Time
}

// Validate returns a CodeInvalid error when e cannot be stored.
func (e DriverEntry) Validate() error {
	switch {
	case e.Slug == "":
		return invalid("slug", "is required")
	case e.Command == "":
		return invalid("command", "is required")
	case e.SHA256 == "":
		return invalid("sha256", "is required")
	}
	return nil
}

// DriverCatalog keeps the driver catalog, one entry per slug.
type DriverCatalog interface {
	// RegisterDriver creates or replaces the entry for e.Slug and returns it
	// as stored; a zero RegisteredAt is set to now. Errors: CodeInvalid.
	RegisterDriver(ctx context.Context, e DriverEntry) (DriverEntry, error)
	// GetDriver returns the entry for slug. Errors: CodeNotFound.
	GetDriver(ctx context.Context, slug string) (DriverEntry, error)
	// ListDrivers returns every entry ordered by slug.
	ListDrivers(ctx context.Context) ([]DriverEntry, error)
	// RemoveDriver removes the entry for slug. Errors: CodeNotFound.
	RemoveDriver(ctx context.Context, slug string) error
}
