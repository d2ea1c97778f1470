package secrets_test

import (
	"context"
	"fmt"

	"crmhost.dev/host/secrets"
)

func Example() {
	ctx := context.Background()
	key, _ := secrets.GenerateLocalKey() // normally from CRM_CREDENTIAL_ENCRYPTION_KEY
	kek, err := secrets.NewLocalKEK(key)
	if err != nil {
		panic(err)
	}
	kr := secrets.NewKeyring(kek)
	where := secrets.AAD{TenantID: "t1", Table: "tenant_credentials", Column: "secret", RowID: "c1"}

	s, err := secrets.SealJSON(ctx, kr, map[string]string{"api_key": "abc"}, where)
	if err != nil {
		panic(err)
	}
	// Store s.Ciphertext, s.WrappedDEK and s.KEKID in the row.

	var creds map[string]string
	if err := secrets.OpenJSON(ctx, kr, s, where, &creds); err != nil {
		panic(err)
	}
	fmt.Println(creds["api_key"], kr.NeedsRewrap(s))
	// Output: abc false
}
