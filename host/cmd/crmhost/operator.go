package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/operators"
)

// operatorCmd manages named operators:
//
//	crmhost operator create <name> [--json]
//	crmhost operator list [--json]
//	crmhost operator revoke <name>
//
// create prints the token on stdout, once (the host keeps only its hash);
// the rest goes to stderr so `TOKEN=$(crmhost operator create alice)`
// works. Operators are managed only here, on the host's own machine, never
// over HTTP: an operator token cannot mint another.
func operatorCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("operator: create, list or revoke")
	}
	sub := args[0]
	fs := flag.NewFlagSet("operator "+sub, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub != "create" && sub != "list" && sub != "revoke":
		return usageError(fmt.Sprintf("operator: unknown subcommand %q", sub))
	case sub == "list" && len(pos) != 0:
		return usageError("operator list takes no arguments")
	case sub != "list" && len(pos) != 1:
		return usageError("operator " + sub + " <name>")
	case sub == "create" && !host.ValidOperatorName(pos[0]):
		return fmt.Errorf("operator name %q: must be 1 to %d letters, digits or . _ @ + - (an e-mail address fits)", pos[0], host.MaxOperatorName)
	}
	store, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	ops := operators.New(store, nil)
	switch sub {
	case "create":
		tok, o, err := ops.Issue(ctx, pos[0])
		if err != nil {
			return err
		}
		cliAudit(ctx, store, "", "operator.create", o.Name+" ("+o.ID+")")
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"id": o.ID, "name": o.Name, "token": tok, "created_at": o.CreatedAt})
		}
		fmt.Fprintf(os.Stderr, "created operator %s (%s); the token is shown only now:\n", o.Name, o.ID)
		fmt.Println(tok)
		return nil
	case "revoke":
		if err := ops.Revoke(ctx, pos[0]); err != nil {
			return err
		}
		cliAudit(ctx, store, "", "operator.revoke", pos[0])
		fmt.Println("revoked operator", pos[0])
		return nil
	}
	list, err := store.ListOperators(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		type opJSON struct {
			ID         string     `json:"id"`
			Name       string     `json:"name"`
			CreatedAt  time.Time  `json:"created_at"`
			LastUsedAt *time.Time `json:"last_used_at"`
			RevokedAt  *time.Time `json:"revoked_at"`
		}
		out := make([]opJSON, 0, len(list))
		for _, o := range list {
			out = append(out, opJSON{o.ID, o.Name, o.CreatedAt, o.LastUsedAt, o.RevokedAt})
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"operators": out})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED\tREVOKED")
	for _, o := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Name, o.CreatedAt.Format(time.RFC3339), stamp(o.LastUsedAt), stamp(o.RevokedAt))
	}
	return w.Flush()
}

// cliActor names whoever runs the CLI in audit rows: cli:<login>.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
