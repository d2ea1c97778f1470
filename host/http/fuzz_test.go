package http_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	hosthttp "crmhost.dev/host/http"
)

// fuzzHost is one host for every input of a fuzz target, and an agent
// token of a tenant without a connection: a request that decodes and
// authenticates ends at not_connected (409), without a driver call.
type fuzzHost struct {
	h     nethttp.Handler
	token string
}

func newFuzzHost(f *testing.F) fuzzHost {
	f.Helper()
	e := newEnv(f)
	tenant := e.createTenant("Fuzz")
	return fuzzHost{h: e.srv.Config.Handler, token: agentToken(f, tenant)}
}

// serve answers one request in-process.
func (fh fuzzHost) serve(method, path, authorization string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	fh.h.ServeHTTP(rec, req)
	return rec
}

// wantClean fails unless rec is a problem with one of statuses: a known
// code, problem+json, no internal error.
func wantClean(t *testing.T, rec *httptest.ResponseRecorder, statuses ...int) hosthttp.Problem {
	t.Helper()
	var p hosthttp.Problem
	ok := false
	for _, s := range statuses {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d, want one of %v: %s", rec.Code, statuses, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q: %s", ct, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code == "" || p.Status != rec.Code {
		t.Fatalf("not a problem (%v): %s", err, rec.Body)
	}
	return p
}

// FuzzRequestDecoding feeds arbitrary bodies to every tool route: each is
// refused as invalid or too large, or decoded and then answered
// not_connected; never a 5xx, never anything but a problem.
func FuzzRequestDecoding(f *testing.F) {
	fh := newFuzzHost(f)
	for _, seed := range []string{
		`{"email":"a@example.com"}`, `{"phone":"+1 415 555 0100"}`, `{"object":"customer","query":"ada","limit":5}`,
		`{"object":"customer","since":"2020-01-01T00:00:00Z"}`, `{"object":"customer","fields":{"first_name":"Ada"},"idempotency_key":"k"}`,
		`{"object":"customer","external_id":"p-1","fields":{"a":[1,{"b":null}]}}`, ``, `{`, `[]`, `null`, `{"email":1}`,
		`{"email":"a"}{"email":"b"}`, `{"email":"a","email":"b"}`, `{"limit":1e400}`, `{"fields":{"x":"` + strings.Repeat("y", 70<<10) + `"}}`,
		"{\"email\":\"\xff\"}", `{"object":"customer","external_id":"..","fields":{"a":1}}`, `{"unknown":true}`,
	} {
		for route := range uint8(5) {
			f.Add(route, []byte(seed))
		}
	}
	routes := []string{"crm_lookup_customer", "crm_search_records", "crm_list_recent", "crm_create_record", "crm_update_record"}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := "/api/tools/" + routes[int(route)%len(routes)]
		rec := fh.serve(nethttp.MethodPost, path, "Bearer "+fh.token, body)
		wantClean(t, rec, nethttp.StatusBadRequest, nethttp.StatusConflict, nethttp.StatusRequestEntityTooLarge)
	})
}

// FuzzAgentTokenHeader feeds arbitrary Authorization headers: all are
// 401s with a Bearer challenge, never a 5xx; only a real token passes (to
// not_connected, or not_found for a token of another run's tenant, which
// the fuzzer may keep in its corpus).
func FuzzAgentTokenHeader(f *testing.F) {
	fh := newFuzzHost(f)
	for _, seed := range []string{"", "Bearer", "Bearer ", "Basic abc", "Bearer a.b.c", "Bearer ...", "bearer " + fh.token,
		"Bearer " + fh.token[:len(fh.token)-2], "Bearer " + strings.Replace(fh.token, ".", "..", 1), "Bearer eyJhbGciOiJub25lIn0.e30.",
		"Bearer " + fh.token + " " + fh.token, "Bearer crmk_aaaaaaaaaaaa_secret", "Bearer crmo_aaaaaaaaaaaa_secret"} {
		f.Add(seed)
	}
	body := []byte(`{"email":"a@example.com"}`)
	f.Fuzz(func(t *testing.T, authorization string) {
		if strings.ContainsAny(authorization, "\r\n\x00") {
			return // not a header value net/http would deliver
		}
		rec := fh.serve(nethttp.MethodPost, "/api/tools/crm_lookup_customer", authorization, body)
		p := wantClean(t, rec, nethttp.StatusUnauthorized, nethttp.StatusNotFound, nethttp.StatusConflict)
		if p.Status != nethttp.StatusUnauthorized {
			return
		}
		if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("401 without a Bearer challenge: %q", rec.Header().Get("WWW-Authenticate"))
		}
	})
}

// FuzzAgentTokenClaims signs arbitrary payloads with the host's own key,
// so they pass the signature check and reach claims decoding and
// validation: each is a 401 (or, for a payload that is a good token, an
// answer for its tenant), never a 5xx.
func FuzzAgentTokenClaims(f *testing.F) {
	fh := newFuzzHost(f)
	now := time.Now().Unix()
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"exp":"soon"}`, `{"exp":1e300,"iat":-1e300}`, `{"aud":7}`, `{"aud":["a",1]}`,
		`{"scope":["crm:read"]}`, `{"scopes":"crm:read"}`, `{"tenant_id":{"x":1}}`, `{"exp":` + itoa(now+60) + `}`,
		`{"iss":"http-tests","aud":"crmhost","sub":"a","iat":` + itoa(now) + `,"exp":` + itoa(now+60) + `,"tenant_id":"ten_x","scope":"crm:read"}`,
		`{"iss":"http-tests","aud":"crmhost","sub":"a","iat":` + itoa(now) + `,"exp":` + itoa(now+7200) + `,"tenant_id":"ten_x","scope":"crm:read"}`,
	} {
		f.Add([]byte(seed))
	}
	body := []byte(`{"email":"a@example.com"}`)
	f.Fuzz(func(t *testing.T, payload []byte) {
		enc := base64.RawURLEncoding
		signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
		mac := hmac.New(sha256.New, hsSecret)
		mac.Write([]byte(signing))
		tok := signing + "." + enc.EncodeToString(mac.Sum(nil))
		rec := fh.serve(nethttp.MethodPost, "/api/tools/crm_lookup_customer", "Bearer "+tok, body)
		// A payload that is a valid token for some tenant gets that
		// tenant's answer: not connected, unknown, or short of a scope.
		wantClean(t, rec, nethttp.StatusUnauthorized, nethttp.StatusForbidden, nethttp.StatusNotFound, nethttp.StatusConflict)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
