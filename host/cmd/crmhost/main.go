// Command crmhost is the CRM integration host: it serves the agent's CRM
// tools and the operator API, launching each CRM driver as a plugin.
//
//	crmhost serve [--migrate]       serve with configuration from the environment
//	crmhost dev                    dev mode: SQLite under .crmhost/, a generated dev key, demo tenants
//	crmhost migrate                apply every database migration (store and job queue) and exit
//	crmhost driver register|list|remove
//	crmhost tenant create|list
//	crmhost apikey create|list|revoke
//	crmhost operator create|list|revoke
//	crmhost token --tenant T       mint an agent JWT (dev and tests)
//	crmhost secrets genkey|rotate
//	crmhost install-completions    shell completion (bash, zsh, fish)
//
// Every command and subcommand answers --help (cli.go: kong).
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
			if u != "" {
				fmt.Fprintln(os.Stderr, err)
			}
			fmt.Fprintln(os.Stderr, "run crmhost --help (or crmhost <command> --help) for usage")
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "crmhost:", err)
		os.Exit(1)
	}
}

type usageError string

func (u usageError) Error() string { return string(u) }
