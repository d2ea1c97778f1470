package genericrest_test

import (
	"testing"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/plugins/genericrest/genericrest"
)

// TestSampleDefinition compiles the checked-in Sample CRM definition and
// every auth variant of it, and checks it fits the host's connect form
// (8192 characters a field).
func TestSampleDefinition(t *testing.T) {
	if n := len(fake.Definition); n > 8192 {
		t.Errorf("the sample definition is %d bytes; the host's connect form takes at most 8192", n)
	}
	for _, auth := range []string{fake.AuthClientCredentials, fake.AuthAPIKeyHeader, fake.AuthAPIKeyQuery, fake.AuthBearer, fake.AuthBasic, fake.AuthNone} {
		if _, err := genericrest.Compile([]byte(fake.DefinitionWith(auth))); err != nil {
			t.Errorf("%s: %v", auth, err)
		}
	}
}
