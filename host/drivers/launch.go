package drivers

import (
	"path/filepath"
	"time"

	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// launch starts the driver binary b holds open (see binary.go) and returns
// its go-plugin client and sdk client. The process starts with the
// driver environment (sdk.DriverEnv plus extraEnv, and traceEnv's
// exporter settings), never the host's. b
// may be closed once launch returns. On an error nothing is left running.
// The process has a process group of its own (see procAttr).
func launch(b *binary, log hclog.Logger, startTimeout time.Duration, extraEnv, traceEnv []string) (*plugin.Client, *sdk.Client, error) {
	cmd, verify := b.command()
	cmd.SysProcAttr = procAttr()
	pc := plugin.NewClient(sdk.NewClientConfig(cmd, sdk.ClientOptions{SHA256: verify, Logger: log,
		StartTimeout: startTimeout, ExtraEnv: extraEnv, TraceEnv: traceEnv}))
	cl, err := sdk.Dispense(pc)
	if err != nil {
		pc.Kill()
		return nil, nil, err
	}
	return pc, cl, nil
}

// binaryName is the file name a catalog entry's command names in dir: a
// bare file name as registered, or (from catalogs written before names
// were required) an absolute path inside dir. ok is false for anything
// else, which is never launched.
func binaryName(dir, command string) (string, bool) {
	if validFileName(command) {
		return command, true
	}
	if !filepath.IsAbs(command) || dir == "" {
		return "", false
	}
	abs, err := filepath.Abs(dir)
	if err != nil || filepath.Dir(filepath.Clean(command)) != abs {
		return "", false
	}
	return filepath.Base(command), true
}
