package hubspot_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
)

// TestUpsertAnswers covers batch-upsert answers the fake does not give: a
// portal without the idempotency property, and per-input errors in a 207.
func TestUpsertAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   sdk.Code
		field  string
		msg    string
		id     string
	}{
		{
			name:   "portal lacks the idempotency property",
			status: 400,
			body:   `{"status":"error","message":"Unable to perform update/upsert by non-unique CONTACT property crmhost_idempotency_key","correlationId":"c","category":"VALIDATION_ERROR"}`,
			code:   sdk.CodeInvalid, field: "idempotency_key", msg: "needs a unique single-line text property",
		},
		{
			name:   "207 with a property error",
			status: 207,
			body: `{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR",` +
				`"message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"shoe\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"shoe\"}]"}]}`,
			code: sdk.CodeInvalid, field: "fields.shoe",
		},
		{
			name:   "200 without results",
			status: 200,
			body:   `{"status":"COMPLETE","results":[]}`,
			code:   sdk.CodeUnavailable,
		},
		{
			name:   "created",
			status: 200,
			body:   `{"status":"COMPLETE","results":[{"id":"512","new":true,"properties":{},"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z","archived":false}]}`,
			id:     "512",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/crm/v3/objects/contacts/batch/upsert" || r.Header.Get("Authorization") != "Bearer pat-test" {
					http.Error(w, "unexpected request", http.StatusTeapot)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			conn := sdk.Connection{Config: map[string]string{sdk.ConfigBaseURL: srv.URL}, Secret: map[string]string{"access_token": "pat-test"}}
			got, err := hubspot.New().CreateRecord(allowed(t), conn, sdk.CreateInput{Object: "contacts", IdempotencyKey: "k",
				Fields: map[string]any{"firstname": "Ada"}})
			if tt.code == "" {
				if err != nil || got.ExternalID != tt.id {
					t.Fatalf("CreateRecord = %+v, %v; want id %s", got, err, tt.id)
				}
				return
			}
			e := wantCode(t, err, tt.code, tt.field)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not say %q", e.Message, tt.msg)
			}
		})
	}
}
