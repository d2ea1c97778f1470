package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/operators"
	"crmhost.dev/host/secrets"
	"crmhost.dev/sdk"
)

// fakesFile is what the dev binary writes: the fake providers it started
// and the connect-form credentials that reach each.
type fakesFile struct {
	Providers []struct {
		Slug        string            `json:"slug"`
		Credentials map[string]string `json:"credentials"`
		// App are the driver's app credentials, stored before the demo
		// tenant connects.
		App map[string]string `json:"app"`
		// MovedFrom is the fake's address in the previous run, when it
		// could not keep it: connections aimed there are re-pointed.
		MovedFrom string `json:"moved_from"`
	} `json:"providers"`
}

// devFile is .crmhost/dev.json: everything a newcomer needs to call the host.
type devFile struct {
	BaseURL       string      `json:"base_url"`
	OperatorToken string      `json:"operator_token"`
	Tenants       []devTenant `json:"tenants"`
}

type devTenant struct {
	ID         string `json:"id"`
	Provider   string `json:"provider"`
	Status     string `json:"status"`
	AgentToken string `json:"agent_token"`
}

// devOperator returns dev mode's operator token, kept in dir/operator.token:
// the token there when it still signs in an operator of the store, else a
// new operator "dev" (revoking the previous one) whose token it writes
// there.
func devOperator(ctx context.Context, store host.Store, dir string) (string, error) {
	path := filepath.Join(dir, "operator.token")
	ops := operators.New(store, nil)
	if b, err := os.ReadFile(path); err == nil {
		if _, err := ops.Authenticate(ctx, strings.TrimSpace(string(b))); err == nil {
			return strings.TrimSpace(string(b)), nil
		}
	}
	if err := ops.Revoke(ctx, "dev"); err != nil && host.CodeOf(err) != host.CodeNotFound {
		return "", err
	}
	tok, o, err := ops.Issue(ctx, "dev")
	if err != nil {
		return "", err
	}
	cliAudit(ctx, store, "", "operator.create", o.Name+" ("+o.ID+") for dev mode")
	return tok, os.WriteFile(path, []byte(tok+"\n"), 0o600)
}

// devSecret reads a dev secret from dir/name or creates it.
func devSecret(dir, name string, gen func() (string, error)) (string, error) {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	v, err := gen()
	if err != nil {
		return "", err
	}
	return v, os.WriteFile(path, []byte(v+"\n"), 0o600)
}

func randomToken() (string, error) { return "dev_" + strings.ToLower(rand.Text()+rand.Text()), nil }

func devCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dir := fs.String("dir", ".crmhost", "state directory (SQLite file, dev key, dev.json)")
	plugins := fs.String("plugins", "bin/plugins", "directory of crm-driver-<slug> binaries to register")
	fakes := fs.String("fakes", "", "fakes.json from the dev binary: providers to seed demo tenants for")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	c.DataDir, c.DatabaseURL, c.PluginDir, c.Migrate = *dir, "", *plugins, true
	log := newLogger(c.LogLevel)
	if len(c.EgressAllow) == 0 {
		// The fake providers listen on loopback, which drivers' egress
		// guard refuses unless the host allows it.
		c.EgressAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	log.Warn("DEV MODE: drivers may reach " + fmt.Sprint(c.EgressAllow) + " (CRMHOST_DRIVER_EGRESS_ALLOW)")
	if c.Key, err = devSecret(*dir, "dev.key", secrets.GenerateLocalKey); err != nil {
		return err
	}
	log.Warn("DEV MODE: credentials are encrypted with a generated DEV KEY stored in plain text at " +
		filepath.Join(*dir, "dev.key") + "; never use it for real tenants")
	secret, err := devSecret(*dir, "jwt.secret", randomToken)
	if err != nil {
		return err
	}
	c.JWT = jwtConfig{Secret: secret, Issuer: devIssuer, Audience: devAudience, MaxLifetime: devTokenLifetime, ClockSkew: c.JWT.ClockSkew}
	kr, err := keyring(ctx, c)
	if err != nil {
		return err
	}
	st, err := buildStack(ctx, c, log, kr)
	if err != nil {
		return err
	}
	defer st.close()
	opToken, err := devOperator(ctx, st.store, *dir)
	if err != nil {
		return err
	}

	bins, _ := filepath.Glob(filepath.Join(*plugins, "crm-driver-*"))
	sort.Strings(bins)
	for _, b := range bins {
		e, err := registerDriver(ctx, c, st.store, filepath.Base(b), "dev-mode", "")
		if err != nil {
			return err
		}
		st.drivers.Forget(e.Slug)
		log.Info("driver registered", "slug", e.Slug, "version", e.Version)
	}
	df := devFile{BaseURL: "http://" + *addr, OperatorToken: opToken, Tenants: []devTenant{}}
	if *fakes != "" {
		if df.Tenants, err = seed(ctx, st, *fakes, c.JWT); err != nil {
			return err
		}
	}
	return st.serve(ctx, *addr, func(a string) {
		df.BaseURL = "http://" + a
		raw, _ := json.MarshalIndent(df, "", "  ")
		path := filepath.Join(*dir, "dev.json")
		if err := os.WriteFile(path, append(raw, '\n'), 0o600); err != nil {
			log.Error("write dev.json", "error", err)
		}
		printQuickstart(df, path)
	})
}

// seed creates (or reuses) one demo tenant per fake provider, connects it
// and mints an agent token for it.
func seed(ctx context.Context, st *stack, path string, jc jwtConfig) ([]devTenant, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ff fakesFile
	if err := json.Unmarshal(raw, &ff); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	existing, err := st.store.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]host.Tenant{}
	for _, t := range existing {
		byName[t.Name] = t
	}
	actor := broker.Actor{Type: host.ActorSystem, ID: "dev-seed", RequestID: "dev-seed"}
	var out []devTenant
	for _, p := range ff.Providers {
		if p.MovedFrom != "" {
			if err := repoint(ctx, st, existing, p.Slug, p.MovedFrom, p.Credentials[sdk.ConfigBaseURL]); err != nil {
				return nil, err
			}
		}
		name := "Demo " + p.Slug
		t, ok := byName[name]
		if !ok {
			if t, err = st.store.CreateTenant(ctx, host.Tenant{Name: name}); err != nil {
				return nil, err
			}
		}
		if p.Credentials[sdk.ConfigDefaultRegion] == "" {
			p.Credentials[sdk.ConfigDefaultRegion] = "US"
		}
		if len(p.App) > 0 {
			if _, err := st.broker.SetAppCredentials(ctx, actor, p.Slug, p.App); err != nil {
				return nil, fmt.Errorf("set the %s driver's app credentials: %w", p.Slug, err)
			}
		}
		conn, res, err := st.broker.Connect(ctx, actor, t.ID, broker.ConnectInput{Provider: p.Slug, Credentials: p.Credentials})
		if err != nil {
			return nil, fmt.Errorf("connect demo tenant for %s: %w", p.Slug, err)
		}
		if !res.OK {
			st.log.Warn("demo tenant connection test failed", "provider", p.Slug, "reason", res.Reason)
		}
		tok, err := mintAgentToken(agentTokenClaims{Secret: jc.Secret, Issuer: jc.Issuer, Audience: jc.Audience,
			Tenant: t.ID, Subject: "dev-agent", Conversation: "dev-conversation",
			Scopes: []string{"crm:read", "crm:write"}, Lifetime: jc.MaxLifetime}, time.Now())
		if err != nil {
			return nil, err
		}
		out = append(out, devTenant{ID: t.ID, Provider: p.Slug, Status: string(conn.Status), AgentToken: tok})
	}
	return out, nil
}

// repoint aims every connection of driver slug whose base_url is from (a
// fake's address in the previous run) at to, keeping its status: the
// tenants an operator connected to a fake by hand keep working when the
// fake had to move.
func repoint(ctx context.Context, st *stack, tenants []host.Tenant, slug, from, to string) error {
	for _, t := range tenants {
		conn, err := st.store.GetConnection(ctx, t.ID)
		if host.CodeOf(err) == host.CodeNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if conn.Provider != slug || conn.Config[sdk.ConfigBaseURL] != from {
			continue
		}
		conn.Config[sdk.ConfigBaseURL] = to
		if _, err := st.store.PutConnection(ctx, conn); err != nil {
			return fmt.Errorf("re-point tenant %s at the %s fake: %w", t.ID, slug, err)
		}
		st.broker.Forget(t.ID)
		st.log.Info("connection re-pointed at the fake's new address", "tenant", t.ID, "provider", slug, "from", from, "to", to)
	}
	return nil
}

func printQuickstart(df devFile, path string) {
	fmt.Printf("\ncrmhost dev is up at %s — tokens and tenants are in %s\n\n", df.BaseURL, path)
	fmt.Printf("Operator console: %s/console/  (sign in as operator \"dev\" with its token:\n  %s\n  also in %s)\n\n",
		df.BaseURL, df.OperatorToken, filepath.Join(filepath.Dir(path), "operator.token"))
	if len(df.Tenants) == 0 {
		fmt.Println("No demo tenants (no fake providers were given).")
		return
	}
	t := df.Tenants[0]
	fmt.Printf("Try it (tenant %s on the %s fake):\n\n", t.ID, t.Provider)
	fmt.Printf("  TOKEN=$(jq -r '.tenants[0].agent_token' %s)\n", path)
	fmt.Printf("  curl -s %s/api/tools/crm_create_record -H \"Authorization: Bearer $TOKEN\" \\\n", df.BaseURL)
	fmt.Printf("    --json '{\"object\":\"customer\",\"fields\":{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\",\"phone\":\"+1 415 555 0100\"},\"idempotency_key\":\"demo-1\"}'\n")
	fmt.Printf("  curl -s %s/api/tools/crm_lookup_customer -H \"Authorization: Bearer $TOKEN\" --json '{\"phone\":\"(415) 555-0100\"}'\n", df.BaseURL)
	fmt.Printf("  curl -s %s/api/tools/crm_list_recent -H \"Authorization: Bearer $TOKEN\" --json '{\"object\":\"customer\",\"since\":\"2020-01-01T00:00:00Z\"}'\n", df.BaseURL)
	fmt.Printf("  curl -s %s/api/operator/tenants -H \"Authorization: Bearer $(jq -r .operator_token %s)\"\n\n", df.BaseURL, path)
	fmt.Printf("Agent tokens last %s; mint a fresh one with:\n\n  bin/crmhost token --dir %s --tenant %s\n\n", devTokenLifetime, filepath.Dir(path), t.ID)
}
