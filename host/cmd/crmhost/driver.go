package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// describeBinary launches a driver binary once (checksum verified) and
// returns its Describe answer.
func describeBinary(ctx context.Context, path, sum string) (sdk.Description, error) {
	want, err := hexDecode(sum)
	if err != nil {
		return sdk.Description{}, err
	}
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(path), sdk.ClientOptions{SHA256: want, Logger: hclog.NewNullLogger()}))
	defer pc.Kill()
	cl, err := sdk.Dispense(pc)
	if err != nil {
		return sdk.Description{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cl.Describe(ctx)
}

// registerBinary registers the driver at path under the slug and version
// it describes.
func registerBinary(ctx context.Context, store host.Store, path string) (host.DriverEntry, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return host.DriverEntry{}, err
	}
	sum, err := sdk.FileSHA256(abs)
	if err != nil {
		return host.DriverEntry{}, err
	}
	d, err := describeBinary(ctx, abs, sum)
	if err != nil {
		return host.DriverEntry{}, fmt.Errorf("%s is not a working crmhost driver: %w", path, err)
	}
	return store.RegisterDriver(ctx, host.DriverEntry{Slug: d.Slug, Version: d.DriverVersion, Command: abs,
		SHA256: sum, ProtocolVersions: d.ProtocolVersions})
}

func driverCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("driver: register, list or remove")
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	switch args[0] {
	case "register":
		if len(args) != 2 {
			return usageError("driver register <binary path or slug in $CRMHOST_PLUGIN_DIR>")
		}
		path := args[1]
		if !strings.ContainsRune(path, os.PathSeparator) {
			path = filepath.Join(c.PluginDir, "crm-driver-"+path)
		}
		e, err := registerBinary(ctx, store, path)
		if err != nil {
			return err
		}
		fmt.Printf("registered %s %s (%s, sha256 %s)\n", e.Slug, e.Version, e.Command, e.SHA256)
		return nil
	case "list":
		ds, err := store.ListDrivers(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SLUG\tVERSION\tPROTOCOLS\tSHA256\tCOMMAND")
		for _, d := range ds {
			p, _ := json.Marshal(d.ProtocolVersions)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", d.Slug, d.Version, p, d.SHA256[:12], d.Command)
		}
		return w.Flush()
	case "remove":
		if len(args) != 2 {
			return usageError("driver remove <slug>")
		}
		if err := store.RemoveDriver(ctx, args[1]); err != nil {
			return err
		}
		fmt.Println("removed", args[1])
		return nil
	}
	return usageError(fmt.Sprintf("driver: unknown subcommand %q", args[0]))
}

func tenantCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("tenant: create or list")
	}
	store, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	switch args[0] {
	case "create":
		if len(args) != 2 {
			return usageError("tenant create <name>")
		}
		t, err := store.CreateTenant(ctx, host.Tenant{Name: args[1]})
		if err != nil {
			return err
		}
		fmt.Println(t.ID)
		return nil
	case "list":
		ts, err := store.ListTenants(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tCREATED")
		for _, t := range ts {
			fmt.Fprintf(w, "%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339))
		}
		return w.Flush()
	}
	return usageError(fmt.Sprintf("tenant: unknown subcommand %q", args[0]))
}
