package broker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"crmhost.dev/host"
	"crmhost.dev/host/secrets"
	"crmhost.dev/sdk"
)

// platformTenant names the owner of platform-wide secrets in their AAD:
// no tenant id can equal it (tenant ids start with "ten_").
const platformTenant = "platform"

// AppCredentialAAD binds a driver's sealed app credentials to their row.
func AppCredentialAAD(slug string) secrets.AAD {
	return secrets.AAD{TenantID: platformTenant, Table: "app_credentials", Column: "secret", RowID: slug}
}

// appCache keeps each driver's sealed app credentials row (never the
// plaintext) for the config cache's TTL, so a call does not read the
// store for them; they are opened per call (the DEK cache makes that
// cheap). Changes through this broker apply at once.
type appCache struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	rows map[string]cachedApp
}

type cachedApp struct {
	row *host.AppCredential // nil: the driver has none
	at  time.Time
}

func (c *appCache) get(slug string) (cachedApp, bool) {
	if c.ttl <= 0 {
		return cachedApp{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.rows[slug]
	return e, ok && c.now().Sub(e.at) < c.ttl
}

func (c *appCache) put(slug string, row *host.AppCredential) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = map[string]cachedApp{}
	}
	c.rows[slug] = cachedApp{row: row, at: c.now()}
}

func (c *appCache) forget(slug string) {
	c.mu.Lock()
	delete(c.rows, slug)
	c.mu.Unlock()
}

// appCredentials opens the app credentials of the driver desc describes;
// an empty map when it declares none or an operator has set none (the
// driver then says what it misses). Errors: CodeInternal.
func (b *Broker) appCredentials(ctx context.Context, desc sdk.Description) (map[string]string, error) {
	if len(desc.AppCredentialFields) == 0 {
		return map[string]string{}, nil
	}
	e, ok := b.apps.get(desc.Slug)
	if !ok {
		row, err := b.store.GetAppCredential(ctx, desc.Slug)
		switch {
		case err == nil:
			e.row = &row
		case host.CodeOf(err) != host.CodeNotFound:
			return nil, err
		}
		b.apps.put(desc.Slug, e.row)
	}
	if e.row == nil {
		return map[string]string{}, nil
	}
	var app map[string]string
	sealed := secrets.Sealed{Ciphertext: e.row.Ciphertext, WrappedDEK: e.row.WrappedDEK, KEKID: e.row.KEKID}
	if err := secrets.OpenJSON(ctx, b.keyring, sealed, AppCredentialAAD(desc.Slug), &app); err != nil {
		return nil, &host.Error{Code: host.CodeInternal, Message: "the driver's app credentials could not be decrypted", Cause: err}
	}
	return app, nil
}

// AppCredentialStatus says which of a driver's app credential fields are
// set, never their values.
type AppCredentialStatus struct {
	Driver    string                `json:"driver"`
	Fields    []sdk.CredentialField `json:"fields"`
	Set       []string              `json:"set"`
	Missing   []string              `json:"missing"`
	Version   int                   `json:"version,omitempty"`
	UpdatedAt *time.Time            `json:"updated_at,omitempty"`
}

// AppCredentials reports a driver's app credentials: the fields it
// declares and which are set. Errors: CodeNotFound (driver),
// CodeDriverUnavailable.
func (b *Broker) AppCredentials(ctx context.Context, slug string) (AppCredentialStatus, error) {
	desc, err := b.describeDriver(ctx, slug)
	if err != nil {
		return AppCredentialStatus{}, err
	}
	app, err := b.appCredentials(ctx, desc)
	if err != nil {
		return AppCredentialStatus{}, err
	}
	out := AppCredentialStatus{Driver: desc.Slug, Fields: desc.AppCredentialFields, Set: []string{}, Missing: []string{}}
	if out.Fields == nil {
		out.Fields = []sdk.CredentialField{}
	}
	for _, f := range desc.AppCredentialFields {
		switch {
		case app[f.Name] != "":
			out.Set = append(out.Set, f.Name)
		case f.Required:
			out.Missing = append(out.Missing, f.Name)
		}
	}
	if row, err := b.store.GetAppCredential(ctx, desc.Slug); err == nil {
		out.Version, out.UpdatedAt = row.Version, &row.CreatedAt
	}
	return out, nil
}

// SetAppCredentials stores a driver's app credentials, replacing what was
// set: values are checked against the fields the driver declares, sealed
// and audited (field names only). Errors: CodeNotFound (driver),
// CodeInvalid naming the field (unknown, required and empty, too long),
// CodeConflict when another operator changed them meanwhile.
func (b *Broker) SetAppCredentials(ctx context.Context, a Actor, slug string, values map[string]string) (AppCredentialStatus, error) {
	desc, err := b.describeDriver(ctx, slug)
	if err != nil {
		return AppCredentialStatus{}, err
	}
	if len(desc.AppCredentialFields) == 0 {
		return AppCredentialStatus{}, &host.Error{Code: host.CodeInvalid, Field: "driver", Message: fmt.Sprintf("%s declares no app credentials", desc.Slug)}
	}
	known := map[string]sdk.CredentialField{}
	for _, f := range desc.AppCredentialFields {
		known[f.Name] = f
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		f, ok := known[k]
		switch {
		case !ok:
			return AppCredentialStatus{}, &host.Error{Code: host.CodeInvalid, Field: "values." + k, Message: fmt.Sprintf(
				"is not an app credential of %s (fields: %s)", desc.Slug, fieldList(desc.AppCredentialFields))}
		case len(values[k]) > 8192:
			return AppCredentialStatus{}, &host.Error{Code: host.CodeInvalid, Field: "values." + k, Message: "is longer than 8192 characters"}
		case f.Type == "select" && values[k] != "" && !contains(f.Options, values[k]):
			return AppCredentialStatus{}, &host.Error{Code: host.CodeInvalid, Field: "values." + k, Message: "must be one of " + strings.Join(f.Options, ", ")}
		}
	}
	for _, f := range desc.AppCredentialFields {
		if f.Required && values[f.Name] == "" {
			return AppCredentialStatus{}, &host.Error{Code: host.CodeInvalid, Field: "values." + f.Name, Message: "is required"}
		}
	}
	clean := map[string]string{}
	for k, v := range values {
		if v != "" {
			clean[k] = v
		}
	}
	sealed, err := secrets.SealJSON(ctx, b.keyring, clean, AppCredentialAAD(desc.Slug))
	if err != nil {
		return AppCredentialStatus{}, err
	}
	expect := 0
	if cur, err := b.store.GetAppCredential(ctx, desc.Slug); err == nil {
		expect = cur.Version
	} else if host.CodeOf(err) != host.CodeNotFound {
		return AppCredentialStatus{}, err
	}
	row, err := b.store.PutAppCredential(ctx, host.AppCredential{Slug: desc.Slug, Ciphertext: sealed.Ciphertext,
		WrappedDEK: sealed.WrappedDEK, KEKID: sealed.KEKID}, expect)
	b.apps.forget(desc.Slug)
	if err != nil {
		b.record(ctx, a, "", "app_credentials.set", host.OutcomeError, desc.Slug+" "+string(host.CodeOf(err)))
		return AppCredentialStatus{}, err
	}
	b.record(ctx, a, "", "app_credentials.set", host.OutcomeOK, fmt.Sprintf("%s version %d: %s", desc.Slug, row.Version,
		strings.Join(slices.Sorted(maps.Keys(clean)), ",")))
	return b.AppCredentials(ctx, desc.Slug)
}

// DeleteAppCredentials removes a driver's app credentials (audited).
// Errors: CodeNotFound.
func (b *Broker) DeleteAppCredentials(ctx context.Context, a Actor, slug string) error {
	slug = b.drivers.Resolve(slug)
	err := b.store.DeleteAppCredential(ctx, slug)
	b.apps.forget(slug)
	if err == nil {
		b.record(ctx, a, "", "app_credentials.delete", host.OutcomeOK, slug)
	}
	return err
}

// describeDriver describes a registered driver. Errors: CodeNotFound for
// an unregistered slug (without launching anything), CodeDriverUnavailable.
func (b *Broker) describeDriver(ctx context.Context, slug string) (sdk.Description, error) {
	if _, err := b.store.GetDriver(ctx, b.drivers.Resolve(slug)); err != nil {
		return sdk.Description{}, err
	}
	return b.drivers.Describe(ctx, slug)
}

func fieldList(fs []sdk.CredentialField) string {
	n := make([]string, 0, len(fs))
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return strings.Join(n, ", ")
}
