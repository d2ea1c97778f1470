package genericrest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"crmhost.dev/sdk"
)

// FuzzRender renders arbitrary templates (compiled in the create scope)
// against arbitrary fields: every outcome is a rendered request or an
// *sdk.Error, never a panic, and a rendered body is valid JSON.
func FuzzRender(f *testing.F) {
	for _, s := range []string{`fields`, `{"properties": fields, "key": idempotency_key}`, `[1, 2.5, "x", null, true]`,
		`1.0/0.0`, `b"bytes"`, `{1: 2}`, `timestamp("2024-01-01T00:00:00Z")`, `fields.missing`,
		`cel.bind(a, "xx" + "xx", cel.bind(b, a + a, cel.bind(c, b + b, c + c)))`,
		`[1,2,3,4,5,6,7,8,9].map(x, [1,2,3,4,5,6,7,8,9].map(y, [1,2,3,4,5,6,7,8,9].map(z, x*y*z)))`} {
		f.Add(s, `{"email":"a@example.com","n":1}`)
	}
	f.Fuzz(func(t *testing.T, src, fields string) {
		var in map[string]any
		if json.Unmarshal([]byte(fields), &in) != nil {
			in = map[string]any{}
		}
		r, err := compileRequest(scopeCreate, "definition.objects.x.create", Request{Path: "/x/{idempotency_key}", Body: src}, "POST")
		if err != nil {
			wantSDK(t, err)
			return
		}
		out, err := r.render(context.Background(), map[string]any{"config": map[string]string{}, "fields": celValue(in),
			"idempotency_key": "k1", "nonce": "n"})
		if err != nil {
			wantSDK(t, err)
			return
		}
		if _, err := json.Marshal(out.Body); err != nil {
			t.Fatalf("rendered a body that is not JSON: %v", err)
		}
	})
}

// FuzzExtract runs arbitrary JSONPaths over arbitrary answers the way
// the driver reads records: never a panic, always records or an
// *sdk.Error.
func FuzzExtract(f *testing.F) {
	for _, p := range []string{`$.data[*]`, `$`, `$..id`, `$.data[?@.updated_at > '2024']`, `$[0:2]`, `$.a.b.c`, `$['x y']`} {
		f.Add(p, `{"data":[{"id":"1","updated_at":"2024-01-02T00:00:00Z"},{"id":2}],"a":{"b":[1,2,{"c":null}]}}`)
	}
	f.Fuzz(func(t *testing.T, path, body string) {
		records, err := compilePath("definition.objects.x.list.records", path)
		if err != nil {
			wantSDK(t, err)
			return
		}
		id, _ := compilePath("definition.objects.x.record.id", "$.id")
		at, _ := compilePath("definition.objects.x.record.updated_at", "$.updated_at")
		all, _ := compilePath("definition.objects.x.record.fields", "$")
		o := &object{name: "x", id: id, updatedAt: at, fields: all, timeFormat: "rfc3339"}
		v, _ := decodeBody([]byte(body))
		nodes, err := selectRecords(&read{records: records}, v)
		if err != nil {
			wantSDK(t, err)
			return
		}
		s := &session{c: &connector{}, conn: sdk.Connection{}}
		for _, n := range nodes {
			if _, err := s.toRecord(context.Background(), o, n, true); err != nil {
				wantSDK(t, err)
			}
		}
	})
}

func wantSDK(t *testing.T, err error) {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) || e.Code != sdk.CodeInvalid || e.Field == "" {
		t.Fatalf("error %v (%T) is not an invalid *sdk.Error naming a field", err, err)
	}
}
