package hubspot_test

import (
	"net/http"
	"testing"
	"time"

	"crmhost.dev/plugins/hubspot/hubspot"
	"crmhost.dev/sdk"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   *sdk.Error
	}{
		{
			name:   "invalid authentication",
			status: 401,
			body:   `{"status":"error","message":"Authentication credentials not found.","correlationId":"c","category":"INVALID_AUTHENTICATION"}`,
			want:   &sdk.Error{Code: sdk.CodeAuth, Message: "INVALID_AUTHENTICATION: Authentication credentials not found."},
		},
		{
			name:   "expired authentication",
			status: 401,
			body:   `{"status":"error","message":"The OAuth token used to make this call expired 5 second(s) ago.","correlationId":"c","category":"EXPIRED_AUTHENTICATION"}`,
			want:   &sdk.Error{Code: sdk.CodeAuth, Message: "EXPIRED_AUTHENTICATION: The OAuth token used to make this call expired 5 second(s) ago."},
		},
		{
			name:   "missing scopes",
			status: 403,
			body:   `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c","category":"MISSING_SCOPES","context":{"requiredScopes":["crm.objects.deals.read"]}}`,
			want: &sdk.Error{Code: sdk.CodeAuth,
				Message: "MISSING_SCOPES: This app hasn't been granted all required scopes to make this call. (missing scopes: crm.objects.deals.read)"},
		},
		{
			name:   "not found",
			status: 404,
			body:   `{"status":"error","message":"Object not found.  objectId are usually numeric.","correlationId":"c","category":"OBJECT_NOT_FOUND"}`,
			want:   &sdk.Error{Code: sdk.CodeNotFound, Message: "Object not found. objectId are usually numeric."}, // whitespace collapsed by provider.Excerpt,
		},
		{
			name:   "not found without body",
			status: 404,
			want:   &sdk.Error{Code: sdk.CodeNotFound, Message: "HubSpot answered 404 Not Found"},
		},
		{
			name:   "conflict",
			status: 409,
			body:   `{"status":"error","message":"Contact already exists. Existing ID: 123","correlationId":"c","category":"CONFLICT"}`,
			want:   &sdk.Error{Code: sdk.CodeConflict, Message: "Contact already exists. Existing ID: 123"},
		},
		{
			name:   "property doesn't exist, embedded list",
			status: 400,
			body:   `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"favourite\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"favourite\"}]","correlationId":"c","category":"VALIDATION_ERROR"}`,
			want: &sdk.Error{Code: sdk.CodeInvalid, Field: "fields.favourite",
				Message: `Property values were not valid: [{"isValid":false,"message":"Property \"favourite\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"favourite"}]`},
		},
		{
			name:   "property named in errors context",
			status: 400,
			body:   `{"status":"error","message":"Property values were not valid","correlationId":"c","category":"VALIDATION_ERROR","errors":[{"message":"bad","code":"INVALID_DOUBLE","context":{"propertyName":["amount"]}}]}`,
			want:   &sdk.Error{Code: sdk.CodeInvalid, Field: "fields.amount", Message: "Property values were not valid"},
		},
		{
			name:   "property named in message only",
			status: 400,
			body:   `{"status":"error","message":"Property \"shoe_size\" does not exist","correlationId":"c","category":"VALIDATION_ERROR"}`,
			want:   &sdk.Error{Code: sdk.CodeInvalid, Field: "fields.shoe_size", Message: `Property "shoe_size" does not exist`},
		},
		{
			name:   "validation without a property",
			status: 400,
			body:   `{"status":"error","message":"Invalid input JSON on line 1","correlationId":"c","category":"VALIDATION_ERROR"}`,
			want:   &sdk.Error{Code: sdk.CodeInvalid, Message: "Invalid input JSON on line 1"},
		},
		{
			name:   "rate limit with Retry-After",
			status: 429,
			header: http.Header{"Retry-After": {"3"}, "X-Hubspot-Ratelimit-Interval-Milliseconds": {"10000"}},
			body:   `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"}`,
			want:   &sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: 3 * time.Second, Message: "You have reached your ten_secondly_rolling limit."},
		},
		{
			name:   "rate limit with the interval header",
			status: 429,
			header: http.Header{"X-Hubspot-Ratelimit-Interval-Milliseconds": {"2500"}},
			body:   `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"}`,
			want:   &sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: 2500 * time.Millisecond, Message: "You have reached your ten_secondly_rolling limit."},
		},
		{
			name:   "rate limit without headers",
			status: 429,
			body:   `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT"}`,
			want:   &sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: 10 * time.Second, Message: "You have reached your ten_secondly_rolling limit."},
		},
		{
			name:   "secondly (search) rate limit",
			status: 429,
			body:   `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","policyName":"SECONDLY"}`,
			want:   &sdk.Error{Code: sdk.CodeRateLimited, RetryAfter: time.Second, Message: "You have reached your secondly limit."},
		},
		{
			name:   "server error",
			status: 502,
			body:   `<html>Bad Gateway</html>`,
			want:   &sdk.Error{Code: sdk.CodeUnavailable, Message: "HubSpot answered 502 Bad Gateway"},
		},
		{
			name:   "unavailable with Retry-After",
			status: 503,
			header: http.Header{"Retry-After": {"30"}},
			body:   `{"status":"error","message":"Service unavailable","category":"INTERNAL_ERROR"}`,
			want:   &sdk.Error{Code: sdk.CodeUnavailable, RetryAfter: 30 * time.Second, Message: "Service unavailable"},
		},
		{
			name:   "method not allowed",
			status: 405,
			want:   &sdk.Error{Code: sdk.CodeInternal, Message: "HubSpot answered 405 Method Not Allowed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := hubspot.Classify(tt.status, h, []byte(tt.body))
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(sdk.Error{}, "Cause")); diff != "" {
				t.Errorf("classify(%d) mismatch (-want +got):\n%s", tt.status, diff)
			}
		})
	}
}

func TestPhoneVariants(t *testing.T) {
	tests := []struct {
		e164 string
		want []string
	}{
		{"+14155550123", []string{"+14155550123", "14155550123", "4155550123", "(415) 555-0123", "415-555-0123", "+1 415-555-0123", "415.555.0123", "415 555 0123", "+1 415 555 0123"}},
		{"+442079460018", []string{"+442079460018", "442079460018", "2079460018", "020 7946 0018", "020-7946-0018", "+44 20 7946 0018", "02079460018", "020.7946.0018"}},
	}
	for _, tt := range tests {
		t.Run(tt.e164, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hubspot.PhoneVariants(tt.e164)); diff != "" {
				t.Errorf("phoneVariants mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
