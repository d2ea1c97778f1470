package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/secrets"
)

func secretsCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("secrets: genkey or rotate [--reseal]")
	}
	switch args[0] {
	case "genkey":
		if len(args) != 1 {
			return usageError("secrets genkey takes no arguments")
		}
		k, err := secrets.GenerateLocalKey()
		if err != nil {
			return err
		}
		fmt.Println(k)
		return nil
	case "rotate":
		fs := flag.NewFlagSet("secrets rotate", flag.ContinueOnError)
		reseal := fs.Bool("reseal", false, "also replace each credential's data key (re-encrypt it under a new DEK)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError(err.Error())
		}
		if fs.NArg() != 0 {
			return usageError("secrets rotate [--reseal] takes no arguments")
		}
		return rotate(ctx, *reseal)
	}
	return usageError(fmt.Sprintf("secrets: unknown subcommand %q", args[0]))
}

// rotate moves every credential (and every driver's app credentials) to
// the primary KEK. Without reseal it re-wraps each row's data key
// (payloads untouched, versions kept); with reseal it re-encrypts each
// under a fresh data key as the row's next version, which is what answers
// a compromised KEK (any DEK it wrapped could be known). A row sealed before credentials were bound to their
// version is resealed either way. Run it with the new key in
// CRM_CREDENTIAL_ENCRYPTION_KEY and the old one in CRM_CREDENTIAL_OLD_KEYS,
// once every replica runs with both (README, "Rotating the credential
// key"). A row a replica changes meanwhile is retried.
func rotate(ctx context.Context, reseal bool) error {
	c, err := loadConfig()
	if err != nil {
		return err
	}
	kr, err := keyring(ctx, c)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, c, checkSchema)
	if err != nil {
		return err
	}
	defer store.Close()
	var n rotation
	after := ""
	for {
		page, err := store.ListCredentials(ctx, after, 200)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, cr := range page {
			after = cr.TenantID
			for attempt := 0; ; attempt++ {
				err := rotateOne(ctx, store, kr, cr, reseal, &n)
				if host.CodeOf(err) != host.CodeConflict || attempt == 2 {
					if err != nil {
						return fmt.Errorf("tenant %s: %w", cr.TenantID, err)
					}
					break
				}
				// A replica refreshed the token meanwhile: rotate what it wrote.
				if cr, err = store.GetCredential(ctx, cr.TenantID); err != nil {
					return fmt.Errorf("tenant %s: %w", cr.TenantID, err)
				}
			}
		}
	}
	apps, err := rotateApps(ctx, store, kr, reseal)
	if err != nil {
		return err
	}
	fmt.Printf("rotated: %d credentials re-wrapped, %d resealed under new data keys (%d of them sealed before version binding), %d already current; %d drivers' app credentials rotated; primary key %s\n",
		n.rewrapped, n.resealed, n.legacy, n.current, apps, kr.PrimaryID())
	return nil
}

// rotateApps moves every driver's app credentials to the primary KEK the
// same way (they are few: one row per driver), and returns how many rows
// changed.
func rotateApps(ctx context.Context, store host.Store, kr *secrets.Keyring, reseal bool) (int, error) {
	rows, err := store.ListAppCredentials(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		s := secrets.Sealed{Ciphertext: row.Ciphertext, WrappedDEK: row.WrappedDEK, KEKID: row.KEKID}
		aad := broker.AppCredentialAAD(row.Slug)
		now := time.Now().UTC()
		switch {
		case reseal:
			ns, err := kr.Reseal(ctx, s, aad, aad)
			if err != nil {
				return n, fmt.Errorf("app credentials of %s: %w", row.Slug, err)
			}
			_, err = store.PutAppCredential(ctx, host.AppCredential{Slug: row.Slug, Ciphertext: ns.Ciphertext, WrappedDEK: ns.WrappedDEK,
				KEKID: ns.KEKID, RotatedAt: &now}, row.Version)
			if err != nil {
				return n, fmt.Errorf("app credentials of %s: %w", row.Slug, err)
			}
		case kr.NeedsRewrap(s):
			ns, err := kr.Rewrap(ctx, s, aad)
			if err != nil {
				return n, fmt.Errorf("app credentials of %s: %w", row.Slug, err)
			}
			if err := store.RewrapAppCredential(ctx, row.Slug, row.Version, ns.WrappedDEK, ns.KEKID, now); err != nil {
				return n, fmt.Errorf("app credentials of %s: %w", row.Slug, err)
			}
		default:
			continue
		}
		n++
	}
	return n, nil
}

// rotation counts what rotate did.
type rotation struct{ rewrapped, resealed, legacy, current int }

// rotateOne rotates one credential row.
func rotateOne(ctx context.Context, store host.Store, kr *secrets.Keyring, cr host.Credential, reseal bool, n *rotation) error {
	s := secrets.Sealed{Ciphertext: cr.Ciphertext, WrappedDEK: cr.WrappedDEK, KEKID: cr.KEKID}
	aad := broker.CredentialAAD(cr.TenantID, cr.Version)
	legacy := false
	if _, err := kr.Open(ctx, s, aad); err != nil {
		// Sealed before versions were bound? Only rotation opens those.
		if _, lerr := kr.Open(ctx, s, broker.CredentialAAD(cr.TenantID, 0)); lerr != nil {
			return err
		}
		aad, legacy = broker.CredentialAAD(cr.TenantID, 0), true
	}
	if !reseal && !legacy {
		if !kr.NeedsRewrap(s) {
			n.current++
			return nil
		}
		ns, err := kr.Rewrap(ctx, s, aad)
		if err != nil {
			return err
		}
		if err := store.RewrapCredential(ctx, cr.TenantID, cr.Version, ns.WrappedDEK, ns.KEKID, time.Now().UTC()); err != nil {
			return err
		}
		n.rewrapped++
		return nil
	}
	ns, err := kr.Reseal(ctx, s, aad, broker.CredentialAAD(cr.TenantID, cr.Version+1))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := store.PutCredential(ctx, host.Credential{TenantID: cr.TenantID, Ciphertext: ns.Ciphertext, WrappedDEK: ns.WrappedDEK,
		KEKID: ns.KEKID, ExpiresAt: cr.ExpiresAt, RotatedAt: &now}, cr.Version); err != nil {
		return err
	}
	n.resealed++
	if legacy {
		n.legacy++
	}
	return nil
}
