package providertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"crmhost.dev/sdk/providertest"
)

// A fake wraps its handler in the validation middleware. In a test, pass
// spec.Require(t) as the validator and t.Errorf as report: a request that
// does not match its spec then fails the test.
func Example() {
	spec := providertest.Spec{
		Provider: "acme",
		Files:    []string{"crm.yaml"},
		Relax: []providertest.Relaxation{
			providertest.Unrequire("crm.yaml", "ContactInput",
				"the spec marks tags required; Acme creates contacts without them", "tags"),
		},
		Dir: "testdata/acme", // a fake leaves Dir empty: the specs are located
	}
	v, err := spec.Load()
	if err != nil {
		fmt.Println(err)
		return
	}
	report := func(format string, args ...any) { fmt.Printf("mismatch: "+format+"\n", args...) }
	reject := func(w http.ResponseWriter, _ *http.Request, _ error) {
		http.Error(w, `{"error":"INVALID_INPUT"}`, http.StatusBadRequest) // Acme's own 400
	}
	fake := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	srv := httptest.NewServer(v.Middleware(report, reject)(fake))
	defer srv.Close()

	for _, body := range []string{`{"email":"ada@example.com"}`, `{"tags":["vip"]}`} {
		resp, err := http.Post(srv.URL+"/v2/contacts", "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 201
	// mismatch: POST /v2/contacts does not match the provider's spec: request body has an error: doesn't match schema #/components/schemas/ContactInput: Error at "/email": property "email" is missing
	// 400
}
