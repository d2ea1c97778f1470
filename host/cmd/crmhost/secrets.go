package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"crmhost.dev/host/broker"
	"crmhost.dev/host/secrets"
)

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func secretsCmd(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("secrets: genkey or rotate")
	}
	switch args[0] {
	case "genkey":
		k, err := secrets.GenerateLocalKey()
		if err != nil {
			return err
		}
		fmt.Println(k)
		return nil
	case "rotate":
		return rotate(ctx)
	}
	return usageError(fmt.Sprintf("secrets: unknown subcommand %q", args[0]))
}

// rotate re-wraps every credential's data key under the primary KEK,
// leaving the encrypted payloads untouched. Run it with the new key in
// CRM_CREDENTIAL_ENCRYPTION_KEY and the old one in CRM_CREDENTIAL_OLD_KEYS.
func rotate(ctx context.Context) error {
	c, err := loadConfig()
	if err != nil {
		return err
	}
	kr, err := keyring(ctx, c)
	if err != nil {
		return err
	}
	store, _, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	var rewrapped, current int
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
			s := secrets.Sealed{Ciphertext: cr.Ciphertext, WrappedDEK: cr.WrappedDEK, KEKID: cr.KEKID}
			if !kr.NeedsRewrap(s) {
				current++
				continue
			}
			ns, err := kr.Rewrap(ctx, s, broker.CredentialAAD(cr.TenantID))
			if err != nil {
				return fmt.Errorf("tenant %s: %w", cr.TenantID, err)
			}
			if err := store.RewrapCredential(ctx, cr.TenantID, cr.Version, ns.WrappedDEK, ns.KEKID, time.Now().UTC()); err != nil {
				return fmt.Errorf("tenant %s: %w", cr.TenantID, err)
			}
			rewrapped++
		}
	}
	fmt.Printf("rotated: %d credentials re-wrapped under %s, %d already current\n", rewrapped, kr.PrimaryID(), current)
	return nil
}
