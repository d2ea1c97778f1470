package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/drivertest"
)

// TestExternalIDRefused: ids that would walk or split a provider URL path
// never reach a driver: the sdk answers invalid naming external_id, for
// updates and deletes alike, while ordinary ids pass.
func TestExternalIDRefused(t *testing.T) {
	c := drivertest.Serve(t, probe{seen: make(chan string, 10)})
	ctx := context.Background()
	conn := sdk.Connection{}
	tests := []struct {
		id   string
		want bool // refused
	}{
		{"", true},
		{"   ", true},
		{".", true},
		{"..", true},
		{"../contacts", true},
		{"a/b", true},
		{"/", true},
		{"12\n34", true},
		{"12\r\nX-Injected: 1", true},
		{"nul\x00", true},
		{"tab\tid", true},
		{"del\x7f", true},
		{strings.Repeat("9", 513), true},
		{"123", false},
		{"a.b", false},
		{"...", false},
		{"..x", false},
		{"café-42", false},
		{"00Q5e000001AbCd", false},
		{strings.Repeat("9", 512), false},
	}
	for _, tc := range tests {
		t.Run(strings.ToValidUTF8(tc.id, "?"), func(t *testing.T) {
			_, uerr := c.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "things", ExternalID: tc.id, Fields: map[string]any{"mail": "x"}})
			_, derr := c.EraseRecord(ctx, conn, sdk.RecordRef{Object: "things", ExternalID: tc.id})
			for verb, err := range map[string]error{"update": uerr, "erase": derr} {
				var e *sdk.Error
				refused := errors.As(err, &e) && e.Code == sdk.CodeInvalid && e.Field == "external_id"
				if refused != tc.want {
					t.Errorf("%s %q: %v, refused = %v, want %v", verb, tc.id, err, refused, tc.want)
				}
				if refused && e.Message == "" {
					t.Errorf("%s %q: refusal without a message", verb, tc.id)
				}
			}
		})
	}
}
