// Command crmhost is the CRM integration host: it serves the agent's CRM
// tools and the operator API, launching each CRM driver as a plugin.
//
//	crmhost serve [-migrate]       serve with configuration from the environment
//	crmhost dev                    dev mode: SQLite under .crmhost/, a generated dev key, demo tenants
//	crmhost migrate                apply every database migration (store and job queue) and exit
//	crmhost driver register|list|remove
//	crmhost tenant create|list
//	crmhost apikey create|list|revoke
//	crmhost operator create|list|revoke
//	crmhost token --tenant T       mint an agent JWT (dev and tests)
//	crmhost secrets genkey|rotate
//
// Configuration is read here and only here; see config.go for every
// variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, err)
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "crmhost:", err)
		os.Exit(1)
	}
}

const usage = `usage: crmhost <command> [flags]

commands:
  serve [-migrate]              serve (configuration from the environment); refuses a
                                database behind this binary unless -migrate applies it
  dev                           dev mode with demo tenants (see make run)
  migrate                       apply every database migration (store and job queue)
  driver register [-as <slug>] <file>
                                register a binary of $CRMHOST_PLUGIN_DIR by file name (or slug);
                                the host hashes, launches and asks it (slug and version from its Describe);
                                -as registers it under another slug: a provider another driver's binary serves
  driver list                   list registered drivers
  driver remove <slug>          remove a driver
  tenant create <name>          create a tenant
  tenant list                   list tenants
  apikey create --tenant T --scope S [--scope S...]
                                issue a public API key (printed once); scopes: crm:write, crm:read, leads:write,
                                customers:write, cases:write, conversations:write
  apikey list --tenant T        list a tenant's API keys (never the keys themselves)
  apikey revoke --tenant T <id> revoke an API key at once
  operator create <name>        create a named operator; its token is printed once
  operator list                 list operators (never their tokens)
  operator revoke <name>        revoke an operator's token at once
  token --tenant T [--scope S...] [--ttl D] [--dir .crmhost]
                                mint an agent JWT (HS256, the configured issuer and audience)
  secrets genkey                print a new CRM_CREDENTIAL_ENCRYPTION_KEY
  secrets rotate [--reseal]     re-wrap every credential's key under the current KEK;
                                --reseal also re-encrypts each under a new data key
`

type usageError string

func (u usageError) Error() string { return string(u) }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("crmhost: a command is required")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serveCmd(ctx, rest)
	case "dev":
		return devCmd(ctx, rest)
	case "migrate":
		return migrateCmd(ctx, rest)
	case "driver":
		return driverCmd(ctx, rest)
	case "tenant":
		return tenantCmd(ctx, rest)
	case "apikey":
		return apikeyCmd(ctx, rest)
	case "operator":
		return operatorCmd(ctx, rest)
	case "token":
		return tokenCmd(ctx, rest)
	case "secrets":
		return secretsCmd(ctx, rest)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return usageError(fmt.Sprintf("crmhost: unknown command %q", cmd))
}
