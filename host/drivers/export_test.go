package drivers

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
)

// LaunchSwapped opens the binary name in dir as a launch does (checks and
// checksum), calls swap, then launches what was opened and returns the
// slug it describes and the checksum taken before the swap. It shows that
// the host executes the file it hashed.
func LaunchSwapped(dir, name string, swap func()) (slug, sum string, err error) {
	b, err := openBinary(dir, name)
	if err != nil {
		return "", "", err
	}
	defer b.close()
	swap()
	pc, cl, err := launch(b, hclog.NewNullLogger(), 10*time.Second, nil, nil)
	if err != nil {
		return "", b.sum, err
	}
	defer pc.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := cl.Describe(ctx)
	return d.Slug, b.sum, err
}
