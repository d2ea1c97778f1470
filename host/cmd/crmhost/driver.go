package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/drivers"
	"github.com/hashicorp/go-hclog"
)

// driverFile turns `driver register`'s argument into a file name in
// pluginDir: a file name as is, a slug as crm-driver-<slug>, a path only
// when it names a file directly in pluginDir.
func driverFile(pluginDir, arg string) (string, error) {
	if !strings.ContainsRune(arg, os.PathSeparator) {
		if !strings.HasPrefix(arg, "crm-driver-") {
			if _, err := os.Stat(filepath.Join(pluginDir, arg)); err != nil {
				return "crm-driver-" + arg, nil // a slug
			}
		}
		return arg, nil
	}
	dir, err := filepath.Abs(pluginDir)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return "", err
	}
	if filepath.Dir(abs) != dir {
		return "", fmt.Errorf("%s is not in the plugin directory %s (CRMHOST_PLUGIN_DIR): drivers are registered only from there, by file name", arg, dir)
	}
	return filepath.Base(abs), nil
}

// registerDriver registers the binary named file in c.PluginDir through a
// driver manager (which checks, hashes, launches and asks it) and audits
// it for actor: under the slug it describes, or under as when as is set
// (a provider whose connections another driver's binary serves).
func registerDriver(ctx context.Context, c config, store host.Store, file, actor, as string) (host.DriverEntry, error) {
	m := drivers.NewManager(store, drivers.Options{PluginDir: c.PluginDir, DriverEnv: c.DriverEnv, Logger: hclog.NewNullLogger()})
	defer m.Close()
	e, err := m.RegisterAs(ctx, store, file, as)
	if err != nil {
		return e, err
	}
	_, aerr := store.AppendAudit(ctx, host.AuditEntry{At: time.Now().UTC(), ActorType: host.ActorOperator, ActorID: actor,
		Action: "driver.register", Outcome: host.OutcomeOK, Detail: fmt.Sprintf("%s %s file %s sha256 %s", e.Slug, e.Version, e.Command, e.SHA256)})
	if aerr != nil {
		fmt.Fprintln(os.Stderr, "crmhost: warning: audit write failed:", aerr)
	}
	return e, nil
}

func driverCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("driver: register, list or remove")
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	as := ""
	if len(args) == 4 && args[0] == "register" && args[1] == "--as" {
		as, args = args[2], []string{args[0], args[3]}
	}
	switch {
	case args[0] == "register" && len(args) != 2:
		return usageError("driver register [--as <slug>] <file name in $CRMHOST_PLUGIN_DIR, or slug>")
	case args[0] == "remove" && len(args) != 2:
		return usageError("driver remove <slug>")
	}
	store, _, err := openStore(ctx, c, checkSchema)
	if err != nil {
		return err
	}
	defer store.Close()
	switch args[0] {
	case "register":
		file, err := driverFile(c.PluginDir, args[1])
		if err != nil {
			return err
		}
		e, err := registerDriver(ctx, c, store, file, cliActor(), as)
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
		fmt.Fprintln(w, "SLUG\tVERSION\tPROTOCOLS\tSHA256\tFILE")
		for _, d := range ds {
			p, _ := json.Marshal(d.ProtocolVersions)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", d.Slug, d.Version, p, d.SHA256[:min(12, len(d.SHA256))], d.Command)
		}
		return w.Flush()
	case "remove":
		if err := store.RemoveDriver(ctx, args[1]); err != nil {
			return err
		}
		cliAudit(ctx, store, "", "driver.remove", args[1])
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
		cliAudit(ctx, store, t.ID, "tenant.create", "name "+strconv.Quote(t.Name))
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
