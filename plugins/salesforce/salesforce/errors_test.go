package salesforce_test

import (
	"net/http"
	"testing"
	"time"

	"crmhost.dev/plugins/salesforce/salesforce"
	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		code   sdk.Code
		field  string
		retry  time.Duration
	}{
		{"expired session", 401, nil, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`, sdk.CodeAuth, "", 0},
		{"daily limit", 403, http.Header{"Sforce-Limit-Info": {"api-usage=15001/15000"}}, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, sdk.CodeRateLimited, "", 10 * time.Minute},
		{"concurrency limit", 403, nil, `[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, sdk.CodeRateLimited, "", 5 * time.Second},
		{"limit with Retry-After", 403, http.Header{"Retry-After": {"7"}}, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, sdk.CodeRateLimited, "", 7 * time.Second},
		{"API disabled", 403, nil, `[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]`, sdk.CodeAuth, "", 0},
		{"not found", 404, nil, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`, sdk.CodeNotFound, "", 0},
		{"deleted", 404, nil, `[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED"}]`, sdk.CodeNotFound, "", 0},
		{"required fields", 400, nil, `[{"message":"Required fields are missing: [LastName, Company]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName","Company"]}]`, sdk.CodeInvalid, "fields.LastName", 0},
		{"no such column", 400, nil, `[{"message":"No such column 'Shoe__c' on entity 'Contact'.","errorCode":"INVALID_FIELD"}]`, sdk.CodeInvalid, "fields.Shoe__c", 0},
		{"filter type", 400, nil, `[{"message":"value of filter criterion for field 'CreatedDate' must be of type dateTime","errorCode":"INVALID_FIELD"}]`, sdk.CodeInvalid, "fields.CreatedDate", 0},
		{"duplicates", 400, nil, `[{"message":"Use one of these records?","errorCode":"DUPLICATES_DETECTED","fields":[]}]`, sdk.CodeConflict, "", 0},
		{"unique value", 400, nil, `[{"message":"duplicate value found: Crmhost_Key__c","errorCode":"DUPLICATE_VALUE"}]`, sdk.CodeConflict, "", 0},
		{"row lock", 400, nil, `[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW"}]`, sdk.CodeUnavailable, "", 0},
		{"unknown object", 400, nil, `[{"message":"sObject type 'X' is not supported.","errorCode":"INVALID_TYPE"}]`, sdk.CodeInvalid, "object", 0},
		{"bad search", 400, nil, `[{"message":"search term must be longer than one character","errorCode":"INVALID_SEARCH"}]`, sdk.CodeInvalid, "query", 0},
		{"server unavailable", 503, http.Header{"Retry-After": {"30"}}, `[{"message":"Server temporarily unavailable","errorCode":"SERVER_UNAVAILABLE"}]`, sdk.CodeUnavailable, "", 30 * time.Second},
		{"unknown exception", 500, nil, `[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]`, sdk.CodeUnavailable, "", 0},
		{"not JSON", 502, nil, `<html>Bad gateway</html>`, sdk.CodeUnavailable, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			ra, _ := provider.RetryAfter(h, time.Now())
			e := salesforce.Classify(&provider.Response{Status: tc.status, Header: h, Body: []byte(tc.body), RetryAfter: ra})
			if e.Code != tc.code || e.Field != tc.field || e.RetryAfter != tc.retry {
				t.Fatalf("classify = %s field %q retry %v (%s), want %s field %q retry %v", e.Code, e.Field, e.RetryAfter, e.Message, tc.code, tc.field, tc.retry)
			}
		})
	}
}
