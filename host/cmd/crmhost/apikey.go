package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/apikeys"
)

// scopeFlags collects a repeatable --scope.
type scopeFlags []string

func (s *scopeFlags) String() string { return strings.Join(*s, ",") }

func (s *scopeFlags) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// parseInterleaved parses fs's flags wherever they stand among args and
// returns the positional arguments, so `revoke <id> --tenant T` works as
// well as `revoke --tenant T <id>`.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// apikeyCmd manages a tenant's public API keys:
//
//	crmhost apikey create --tenant T --scope crm:write [--scope ...] [--json]
//	crmhost apikey list --tenant T [--json]
//	crmhost apikey revoke --tenant T <key id>
//
// create prints the key on stdout, once (the host keeps only its hash);
// the rest goes to stderr so `KEY=$(crmhost apikey create ...)` works.
func apikeyCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("apikey: create, list or revoke")
	}
	sub := args[0]
	fs := flag.NewFlagSet("apikey "+sub, flag.ContinueOnError)
	tenant := fs.String("tenant", "", "the tenant's id (required)")
	asJSON := fs.Bool("json", false, "print JSON")
	var scopes scopeFlags
	switch sub {
	case "create":
		fs.Var(&scopes, "scope", "a scope to grant, repeatable: "+strings.Join(apikeys.KnownScopes, ", "))
	case "list", "revoke":
	default:
		return usageError(fmt.Sprintf("apikey: unknown subcommand %q", sub))
	}
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if *tenant == "" {
		return usageError("apikey " + sub + ": --tenant is required")
	}
	switch {
	case sub == "revoke" && len(pos) != 1:
		return usageError("apikey revoke --tenant T <key id>")
	case sub != "revoke" && len(pos) != 0:
		return usageError(fmt.Sprintf("apikey %s takes no arguments, got %q", sub, pos))
	}
	if sub == "create" {
		// Refuse bad scopes before touching the store.
		if _, err := apikeys.ValidateScopes(scopes); err != nil {
			return err
		}
	}
	store, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "create":
		raw, k, err := apikeys.New(store, nil).Issue(ctx, *tenant, scopes)
		if err != nil {
			return err
		}
		cliAudit(ctx, store, *tenant, "api_key.create", k.ID+" scopes "+strings.Join(k.Scopes, " "))
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"id": k.ID, "key": raw, "scopes": k.Scopes, "created_at": k.CreatedAt})
		}
		fmt.Fprintf(os.Stderr, "created API key %s for tenant %s with scopes %s; the key is shown only now:\n", k.ID, *tenant, strings.Join(k.Scopes, ", "))
		fmt.Println(raw)
		return nil
	case "list":
		if _, err := store.GetTenant(ctx, *tenant); err != nil {
			return err
		}
		ks, err := store.ListAPIKeys(ctx, *tenant)
		if err != nil {
			return err
		}
		if *asJSON {
			type keyJSON struct {
				ID         string     `json:"id"`
				Prefix     string     `json:"prefix"`
				Scopes     []string   `json:"scopes"`
				CreatedAt  time.Time  `json:"created_at"`
				LastUsedAt *time.Time `json:"last_used_at"`
				RevokedAt  *time.Time `json:"revoked_at"`
			}
			out := make([]keyJSON, 0, len(ks))
			for _, k := range ks {
				out = append(out, keyJSON{k.ID, apikeys.Shown(k), k.Scopes, k.CreatedAt, k.LastUsedAt, k.RevokedAt})
			}
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"api_keys": out})
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tPREFIX\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		for _, k := range ks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, apikeys.Shown(k), strings.Join(k.Scopes, ","),
				k.CreatedAt.Format(time.RFC3339), stamp(k.LastUsedAt), stamp(k.RevokedAt))
		}
		return w.Flush()
	default: // revoke
		if err := store.RevokeAPIKey(ctx, *tenant, pos[0], time.Now().UTC()); err != nil {
			return err
		}
		cliAudit(ctx, store, *tenant, "api_key.revoke", pos[0])
		fmt.Println("revoked", pos[0])
		return nil
	}
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// cliAudit records an operator action taken on the command line (tenant
// "" for host-wide ones), by cliActor. A failed audit write is reported,
// never fatal.
func cliAudit(ctx context.Context, store host.Store, tenant, action, detail string) {
	_, err := store.AppendAudit(ctx, host.AuditEntry{At: time.Now().UTC(), TenantID: tenant, ActorType: host.ActorOperator,
		ActorID: cliActor(), Action: action, Outcome: host.OutcomeOK, Detail: detail})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crmhost: warning: audit write failed:", err)
	}
}
