package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// A driver keeps one Client and sends each call's requests with the
// connection's base URL, an escaped path and the connection's secrets.
func Example() {
	acme := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token := r.Header.Get("Authorization"); token != "Bearer tok-123" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"message":"%s is not valid here"}`, token) // a careless provider
			return
		}
		fmt.Fprintf(w, `{"id":%q,"name":"Ada"}`, r.URL.EscapedPath())
	}))
	defer acme.Close()

	// Once per driver process.
	client := provider.New(provider.Options{Name: "Acme", UserAgent: "crmhost-acme/1.0"})

	// Per call. The host allows loopback only in dev mode and tests; a
	// real provider is reached without it.
	ctx := sdk.WithEgressAllow(context.Background(), []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	conn := sdk.Connection{
		Config: map[string]string{sdk.ConfigBaseURL: acme.URL},
		Secret: map[string]string{"token": "tok-123"},
	}
	get := func(token, id string) error {
		var contact struct{ ID, Name string }
		err := client.Call(ctx, provider.Request{
			BaseURL: conn.Get(sdk.ConfigBaseURL, "https://api.acme.example"),
			Path:    provider.Path("v2", "contacts", id),
			Header:  http.Header{"Authorization": {"Bearer " + token}},
			Secrets: provider.SecretsOf(conn, token),
		}, &contact)
		if err == nil {
			fmt.Println(contact.ID, contact.Name)
		}
		return err
	}

	fmt.Println(get("tok-123", "a/b"))
	fmt.Println(get("tok-123", ".."))
	fmt.Println(get("tok-expired", "7"))

	_, err := client.Do(context.Background(), provider.Request{BaseURL: acme.URL})
	fmt.Println(err)
	// Output:
	// /v2/contacts/a%2Fb Ada
	// <nil>
	// invalid: the request path has a "." or ".." segment, which is not allowed (an id cannot be "." or "..")
	// auth_error: Acme answered 401 Unauthorized: Bearer [redacted] is not valid here
	// invalid: config.base_url: Acme's address is not allowed: it is a loopback address; drivers reach only public internet addresses
}
