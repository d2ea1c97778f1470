package fake

import (
	_ "embed"
	"fmt"
	"maps"
	"testing"

	"crmhost.dev/sdk"
	"go.yaml.in/yaml/v3"
)

// Definition is the Sample CRM's connector definition, checked in as
// testdata/samplecrm.yaml: OAuth 2.0 client credentials, contacts
// (offset paging, page-numbered search, a deleted-records feed), leads
// (cursor paging, upsert by external reference) and notes (Link-header
// paging).
//
//go:embed testdata/samplecrm.yaml
var Definition string

// Auth kinds DefinitionWith can switch the definition to.
const (
	AuthClientCredentials = "oauth2_client_credentials"
	AuthAPIKeyHeader      = "api_key_header"
	AuthAPIKeyQuery       = "api_key_query"
	AuthBearer            = "bearer"
	AuthBasic             = "basic"
	AuthNone              = "none"
)

// DefinitionWith returns Definition with its auth block replaced by one of
// the kinds the Sample CRM takes (and comments dropped).
func DefinitionWith(auth string) string {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(Definition), &doc); err != nil {
		panic(err)
	}
	doc["auth"] = map[string]map[string]any{
		AuthClientCredentials: {"type": "oauth2_client_credentials", "token_url": "/oauth/token", "scopes": []string{"crm.read", "crm.write"}},
		AuthAPIKeyHeader:      {"type": "api_key", "in": "header", "name": "X-Api-Key"},
		AuthAPIKeyQuery:       {"type": "api_key", "in": "query", "name": "api_key"},
		AuthBearer:            {"type": "bearer"},
		AuthBasic:             {"type": "basic"},
		AuthNone:              {"type": "none"},
	}[auth]
	b, err := yaml.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Connection returns a connection to account A as the host sends it:
// the definition (client credentials) and base_url in config, the OAuth
// client in config and secret, no token yet (the driver obtains one), the
// account id recorded.
func (s *Server) Connection() sdk.Connection { return s.ConnectionWith(AuthClientCredentials, 0) }

// OtherConnection returns a connection to account B, whose data is
// separate from A's.
func (s *Server) OtherConnection() sdk.Connection { return s.ConnectionWith(AuthClientCredentials, 1) }

// BadConnection returns a connection to account A whose client secret the
// token endpoint refuses (401 invalid_client).
func (s *Server) BadConnection() sdk.Connection {
	c := s.Connection()
	c.Secret = map[string]string{"oauth_client_secret": "cs_a_wrong_0000000000"}
	return c
}

// Unissued returns a valid connection to account A without a token.
func (s *Server) Unissued() sdk.Connection { return s.Connection() }

// ConnectionWith returns a connection to account i (0: A, 1: B) with the
// definition switched to auth and that account's credentials for it.
func (s *Server) ConnectionWith(auth string, i int) sdk.Connection {
	a := s.accounts[i]
	def := Definition
	if auth != AuthClientCredentials {
		def = DefinitionWith(auth)
	}
	c := sdk.Connection{
		Config:    map[string]string{"definition": def, sdk.ConfigBaseURL: s.URL, sdk.ConfigDefaultRegion: "US"},
		Secret:    map[string]string{},
		AccountID: a.id,
	}
	switch auth {
	case AuthClientCredentials:
		c.Config["oauth_client_id"] = a.clientID
		c.Secret["oauth_client_secret"] = a.clientSecret
	case AuthAPIKeyHeader, AuthAPIKeyQuery:
		c.Secret["api_key"] = a.apiKey
	case AuthBearer:
		c.Secret["token"] = a.pat
	case AuthBasic:
		c.Config["username"] = a.user
		c.Secret["password"] = a.pass
	}
	return c
}

// Seed stores a record straight into the account behind conn (matched by
// its account id) and returns its id.
func (s *Server) Seed(t *testing.T, conn sdk.Connection, object string, fields map[string]any) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var a *account
	for _, x := range s.accounts {
		if x.id == conn.AccountID {
			a = x
		}
	}
	k, ok := map[string]kind{contacts.name: contacts, leads.name: leads, notes.name: notes}[object]
	if a == nil || !ok {
		t.Fatalf("sample CRM fake: cannot seed %s for account %q", object, conn.AccountID)
	}
	in := maps.Clone(fields)
	if f, why := checkFields(k, in); f != "" {
		t.Fatalf("sample CRM fake: seed %s: %s", object, why)
	}
	return s.insert(a, k, in).id
}

// Count returns how many live records of object account i (0: A, 1: B)
// holds.
func (s *Server) Count(i int, object string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := map[string]kind{contacts.name: contacts, leads.name: leads, notes.name: notes}[object]
	if !ok {
		panic(fmt.Sprintf("sample CRM fake: no object %q", object))
	}
	return len(s.accounts[i].live(k, false))
}
