package main

import (
	"context"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/willabides/kongplete"
)

// cli is crmhost's command line, parsed and documented by kong: every
// command and subcommand answers --help (exit 0), and `crmhost
// install-completions` installs shell completion (bash, zsh, fish) served
// by kongplete. Each command's Run hands its parsed arguments, in their
// canonical spelling, to the command's function (serveCmd, driverCmd, …),
// which checks them as it always did.
type cli struct {
	Serve    serveCLI    `cmd:"" help:"Serve the host (configuration from the environment; see config.go)."`
	Dev      devCLI      `cmd:"" help:"Dev mode: SQLite under .crmhost/, a generated dev key, demo tenants (make run)."`
	Migrate  migrateCLI  `cmd:"" help:"Apply every database migration (the store's and the job queue's) and exit."`
	Driver   driverCLI   `cmd:"" help:"Register, list or remove drivers."`
	Tenant   tenantCLI   `cmd:"" help:"Create or list tenants."`
	Apikey   apikeyCLI   `cmd:"" help:"Issue, list or revoke a tenant's public API keys."`
	Operator operatorCLI `cmd:"" help:"Create, list or revoke named operators."`
	Token    tokenCLI    `cmd:"" help:"Mint an agent JWT (HS256, the configured issuer and audience) for dev and tests."`
	Secrets  secretsCLI  `cmd:"" help:"Generate a credential key, or rotate every credential onto the current one."`

	InstallCompletions kongplete.InstallCompletions `cmd:"" help:"Install (or --uninstall) shell completion for crmhost."`
}

// runner is what every leaf command does: call its function with ctx.
type runner interface {
	run(ctx context.Context) error
}

type serveCLI struct {
	Addr    string `help:"Listen address (default $CRMHOST_ADDR or 127.0.0.1:8080)."`
	Migrate bool   `help:"Apply pending database migrations at start (default: refuse a database behind this binary until crmhost migrate has)."`
}

func (c serveCLI) run(ctx context.Context) error {
	args := opt(nil, "addr", c.Addr)
	if c.Migrate {
		args = append(args, "--migrate")
	}
	return serveCmd(ctx, args)
}

type devCLI struct {
	Dir     string `default:".crmhost" help:"State directory (SQLite file, dev key, dev.json)."`
	Plugins string `default:"bin/plugins" help:"Directory of crm-driver-<slug> binaries to register."`
	Fakes   string `help:"fakes.json from the dev binary: providers to seed demo tenants for."`
	Addr    string `default:"127.0.0.1:8080" help:"Listen address."`
}

func (c devCLI) run(ctx context.Context) error {
	return devCmd(ctx, opt(opt(opt(opt(nil, "dir", c.Dir), "plugins", c.Plugins), "fakes", c.Fakes), "addr", c.Addr))
}

type migrateCLI struct{}

func (migrateCLI) run(ctx context.Context) error { return migrateCmd(ctx, nil) }

type driverCLI struct {
	Register struct {
		File string `arg:"" help:"A driver binary's file name in $CRMHOST_PLUGIN_DIR (or its slug); the host hashes, launches and asks it."`
		As   string `name:"as" help:"Register it under this slug: a provider another driver's binary serves (catalog data, such as opentable on the webhook bridge)."`
	} `cmd:"" help:"Register a driver binary of the plugin directory."`
	List   struct{} `cmd:"" help:"List registered drivers."`
	Remove struct {
		Slug string `arg:"" help:"The driver's slug."`
	} `cmd:"" help:"Remove a driver from the catalog."`
}

type tenantCLI struct {
	Create struct {
		Name string `arg:"" help:"The tenant's name."`
	} `cmd:"" help:"Create a tenant; prints its id."`
	List struct{} `cmd:"" help:"List tenants."`
}

type apikeyCLI struct {
	Create struct {
		Tenant string   `required:"" help:"The tenant's id."`
		Scope  []string `required:"" help:"A scope to grant, repeatable: crm:write, crm:read, leads:write, customers:write, cases:write, conversations:write, consents:write, dnc:write, calls:read."`
		JSON   bool     `name:"json" help:"Print JSON."`
	} `cmd:"" help:"Issue a public API key (printed once)."`
	List struct {
		Tenant string `required:"" help:"The tenant's id."`
		JSON   bool   `name:"json" help:"Print JSON."`
	} `cmd:"" help:"List a tenant's API keys (never the keys themselves)."`
	Revoke struct {
		Tenant string `required:"" help:"The tenant's id."`
		ID     string `arg:"" help:"The key's id."`
	} `cmd:"" help:"Revoke an API key at once."`
}

type operatorCLI struct {
	Create struct {
		Name string `arg:"" help:"The operator's name (an e-mail address fits)."`
		JSON bool   `name:"json" help:"Print JSON."`
	} `cmd:"" help:"Create a named operator; its token is printed once."`
	List struct {
		JSON bool `name:"json" help:"Print JSON."`
	} `cmd:"" help:"List operators (never their tokens)."`
	Revoke struct {
		Name string `arg:"" help:"The operator's name."`
	} `cmd:"" help:"Revoke an operator's token at once (their console sessions end too)."`
}

type tokenCLI struct {
	Tenant       string        `required:"" help:"The tenant's id."`
	Scope        []string      `help:"A scope to grant, repeatable: crm:read, crm:write (default both)."`
	TTL          time.Duration `name:"ttl" help:"Lifetime (default and maximum: CRMHOST_JWT_MAX_LIFETIME, 1h; dev mode 24h)."`
	Subject      string        `default:"agent" help:"The sub claim: which agent this is."`
	Conversation string        `help:"The conversation_id claim, recorded in audit rows."`
	Dir          string        `help:"Mint for the dev host whose state is in this directory (crmhost dev --dir)."`
}

func (c tokenCLI) run(ctx context.Context) error {
	args := opt(nil, "tenant", c.Tenant)
	for _, s := range c.Scope {
		args = opt(args, "scope", s)
	}
	if c.TTL != 0 {
		args = opt(args, "ttl", c.TTL.String())
	}
	return tokenCmd(ctx, opt(opt(opt(args, "subject", c.Subject), "conversation", c.Conversation), "dir", c.Dir))
}

type secretsCLI struct {
	Genkey struct{} `cmd:"" help:"Print a new CRM_CREDENTIAL_ENCRYPTION_KEY."`
	Rotate struct {
		Reseal bool `help:"Also re-encrypt each credential under a new data key (for a key that may have leaked)."`
	} `cmd:"" help:"Re-wrap every credential's data key under the current key."`
}

// opt appends --name=value when value is set.
func opt(args []string, name, value string) []string {
	if value == "" {
		return args
	}
	return append(args, "--"+name+"="+value)
}

// leaf runs the subcommand kong selected of a command group (driver,
// tenant, apikey, operator, secrets) through the group's function.
func (c *cli) leaf(ctx context.Context, command string) error {
	words := strings.Fields(command)
	var args []string
	for _, w := range words[1:] {
		if !strings.HasPrefix(w, "<") {
			args = append(args, w)
		}
	}
	switch words[0] {
	case "driver":
		switch args[0] {
		case "register":
			if c.Driver.Register.As != "" {
				args = append(args, "--as", c.Driver.Register.As)
			}
			args = append(args, c.Driver.Register.File)
		case "remove":
			args = append(args, c.Driver.Remove.Slug)
		}
		return driverCmd(ctx, args)
	case "tenant":
		if args[0] == "create" {
			args = append(args, c.Tenant.Create.Name)
		}
		return tenantCmd(ctx, args)
	case "apikey":
		switch args[0] {
		case "create":
			args = opt(args, "tenant", c.Apikey.Create.Tenant)
			for _, s := range c.Apikey.Create.Scope {
				args = opt(args, "scope", s)
			}
			if c.Apikey.Create.JSON {
				args = append(args, "--json")
			}
		case "list":
			args = opt(args, "tenant", c.Apikey.List.Tenant)
			if c.Apikey.List.JSON {
				args = append(args, "--json")
			}
		case "revoke":
			args = append(opt(args, "tenant", c.Apikey.Revoke.Tenant), c.Apikey.Revoke.ID)
		}
		return apikeyCmd(ctx, args)
	case "operator":
		switch args[0] {
		case "create":
			args = append(args, c.Operator.Create.Name)
			if c.Operator.Create.JSON {
				args = append(args, "--json")
			}
		case "list":
			if c.Operator.List.JSON {
				args = append(args, "--json")
			}
		case "revoke":
			args = append(args, c.Operator.Revoke.Name)
		}
		return operatorCmd(ctx, args)
	case "secrets":
		if args[0] == "rotate" && c.Secrets.Rotate.Reseal {
			args = append(args, "--reseal")
		}
		return secretsCmd(ctx, args)
	}
	return usageError("crmhost: unknown command " + command)
}

// errExit carries kong's exit code (0 after --help).
type errExit int

func (e errExit) Error() string { return "exit" }

// parser builds crmhost's kong parser over c; exit records kong's exits
// (help, completion) instead of ending the process, so run returns them.
func parser(c *cli, exit func(int)) (*kong.Kong, error) {
	return kong.New(c, kong.Name("crmhost"),
		kong.Description("The CRM integration host: serves the agent's CRM tools, the public API, the operator API and console, launching each CRM driver as a plugin."),
		kong.UsageOnError(), kong.ConfigureHelp(kong.HelpOptions{Compact: true}), kong.Exit(exit))
}

// run parses args with kong and runs the command.
func run(ctx context.Context, args []string) (err error) {
	var c cli
	p, err := parser(&c, func(n int) { panic(errExit(n)) })
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(errExit); ok {
				if int(e) == 0 {
					err = nil
					return
				}
				err = usageError("")
				return
			}
			panic(r)
		}
	}()
	kongplete.Complete(p, kongplete.WithExitFunc(func(n int) { panic(errExit(n)) }))
	if len(args) == 0 {
		return usageError("crmhost: a command is required")
	}
	kctx, err := p.Parse(longFlags(args))
	if err != nil {
		return usageError(err.Error())
	}
	switch cmd := kctx.Selected(); {
	case cmd == nil:
		return usageError("crmhost: a command is required")
	case cmd.Target.CanAddr():
		if r, ok := cmd.Target.Addr().Interface().(runner); ok {
			return r.run(ctx)
		}
	}
	if r, ok := kctx.Selected().Target.Interface().(runner); ok {
		return r.run(ctx)
	}
	return c.leaf(ctx, kctx.Command())
}

// longFlags accepts Go's single-dash spelling of long flags (-addr, as
// crmhost's flag package took them and scripts still pass) by doubling
// the dash; a lone "-", short flags (-h) and what follows "--" are left.
func longFlags(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && (a[1] < '0' || a[1] > '9') {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}
