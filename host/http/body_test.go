package http_test

import (
	"errors"
	"testing"

	"crmhost.dev/host"
	hosthttp "crmhost.dev/host/http"
)

func TestNoDuplicateKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		field     string // "" when the document passes
	}{
		{"flat", `{"a": 1, "b": 2}`, ""},
		{"empty object", `{}`, ""},
		{"empty nested", `{"a": {}, "b": []}`, ""},
		{"same key in sibling objects", `{"a": {"k": 1}, "b": {"k": 2}}`, ""},
		{"same key in array elements", `{"list": [{"k": 1}, {"k": 2}], "k": 3}`, ""},
		{"top level", `{"a": 1, "a": 2}`, "a"},
		{"nested", `{"fields": {"email": "x", "phone": "y", "email": "z"}}`, "fields.email"},
		{"after a nested object", `{"o": {"x": {"y": 1}}, "o": 2}`, "o"},
		{"inside an array element", `{"list": [{"k": 1, "k": 2}]}`, "list.k"},
		{"case", `{"object": "a", "OBJECT": "b"}`, "OBJECT"},
		{"broken JSON is left to the decoder", `{"a": 1, "b"`, ""},
		{"array document", `[{"a": 1}, {"a": 1}]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := hosthttp.NoDuplicateKeys([]byte(tc.doc))
			if tc.field == "" {
				if err != nil {
					t.Fatalf("%s refused: %v", tc.doc, err)
				}
				return
			}
			var he *host.Error
			if !errors.As(err, &he) || he.Code != host.CodeInvalid || he.Field != tc.field {
				t.Fatalf("%s: %v, want invalid naming %s", tc.doc, err, tc.field)
			}
		})
	}
}
