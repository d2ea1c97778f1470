package providertest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"crmhost.dev/sdk/providertest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
)

// fixture is the test documents' folder.
func fixture(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "acme"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func acme(t *testing.T, relax ...providertest.Relaxation) *providertest.Validator {
	t.Helper()
	// Each test gets its own folder, so the process-wide cache never hands
	// one test's relaxed documents to another.
	dir := t.TempDir()
	for _, f := range []string{"crm.yaml", "legacy.swagger.json"} {
		raw, err := os.ReadFile(filepath.Join(fixture(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v, err := providertest.Spec{Provider: "acme", Files: []string{"crm.yaml", "legacy.swagger.json"}, Relax: relax, Dir: dir}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func request(method, target, body string) (*http.Request, []byte) {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r, []byte(body)
}

func TestValidate(t *testing.T) {
	v := acme(t)
	tests := []struct {
		name, method, target, body string
		// want: "" valid, "unknown" ErrUnknownOperation, else a substring
		// of the error.
		want string
	}{
		{"OpenAPI 3 create", "POST", "http://127.0.0.1:5000/v2/contacts", `{"email":"a@b.c","tags":[]}`, ""},
		{"the server's path is kept, its host dropped", "POST", "http://127.0.0.1:5000/contacts", `{"email":"a@b.c","tags":[]}`, "unknown"},
		{"a required property missing", "POST", "/v2/contacts", `{"email":"a@b.c"}`, "tags"},
		{"a property of the wrong type", "POST", "/v2/contacts", `{"email":"a@b.c","tags":[],"age":"old"}`, "age"},
		{"a path parameter of the wrong type", "GET", "/v2/contacts/abc", "", "id"},
		{"a query value outside its enum", "GET", "/v2/contacts/7?fields=most", "", "fields"},
		{"a valid read", "GET", "/v2/contacts/7?fields=all", "", ""},
		{"a method the path lacks", "DELETE", "/v2/contacts/7", "", "unknown"},
		{"a path no document has", "GET", "/v2/deals", "", "unknown"},
		{"Swagger 2 under its basePath", "GET", "/v1/clients?limit=20", "", ""},
		{"Swagger 2 query maximum", "GET", "/v1/clients?limit=500", "", "limit"},
		{"Swagger 2 body", "POST", "/v1/clients", `{"LastName":"Lovelace"}`, "FirstName"},
		{"Swagger 2 valid body", "POST", "/v1/clients", `{"FirstName":"Ada"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := request(tt.method, tt.target, tt.body)
			err := v.Validate(r, body)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid request refused: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("invalid request accepted (want %s)", tt.want)
			case tt.want == "unknown" && !errors.Is(err, providertest.ErrUnknownOperation):
				t.Fatalf("error %v, want ErrUnknownOperation", err)
			case tt.want != "unknown" && (errors.Is(err, providertest.ErrUnknownOperation) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestValidateKeepsValuesOutOfMessages(t *testing.T) {
	v := acme(t)
	r, body := request("POST", "/v2/contacts", `{"email":"secret-value@example.com","tags":"secret-tag"}`)
	err := v.Validate(r, body)
	if err == nil {
		t.Fatal("tags as a string accepted")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the message quotes a request value: %v", err)
	}
}

func TestRelaxations(t *testing.T) {
	lenient := acme(t, providertest.Unrequire("crm.yaml", "ContactInput", "fixture: the API creates contacts without tags", "tags"))
	r, body := request("POST", "/v2/contacts", `{"email":"a@b.c"}`)
	if err := lenient.Validate(r, body); err != nil {
		t.Fatalf("relaxed tags still required: %v", err)
	}
	if r, body := request("POST", "/v2/contacts", `{"tags":[]}`); lenient.Validate(r, body) == nil {
		t.Fatal("email no longer required: the relaxation went too far")
	}

	dir := fixture(t)
	for name, r := range map[string]providertest.Relaxation{
		"a schema that is not there":      providertest.Unrequire("crm.yaml", "Nope", "fixture", "tags"),
		"a property that is not required": providertest.Unrequire("crm.yaml", "ContactInput", "fixture", "age"),
		"no reason given":                 providertest.Unrequire("crm.yaml", "ContactInput", " ", "tags"),
		"a failing Apply":                 {Why: "fixture", Apply: func(*openapi3.T) error { return errors.New("gone") }},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := providertest.Spec{Provider: "acme-" + name, Files: []string{"crm.yaml"}, Relax: []providertest.Relaxation{r}, Dir: dir}.Load()
			if err == nil {
				t.Fatal("Load accepted the relaxation")
			}
		})
	}
}

func TestLoadCachesPerFolder(t *testing.T) {
	s := providertest.Spec{Provider: "acme", Files: []string{"crm.yaml"}, Dir: fixture(t)}
	a, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("the same folder was loaded twice")
	}
	if a.Dir() != fixture(t) {
		t.Errorf("Dir %q, want %q", a.Dir(), fixture(t))
	}
}

func TestMiddleware(t *testing.T) {
	v := acme(t)
	var (
		mu      sync.Mutex
		reports []string
		seen    []string
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, fmt.Sprintf(format, args...))
	}
	reject := func(w http.ResponseWriter, _ *http.Request, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status":"error","category":"VALIDATION_ERROR"}`)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(v.Middleware(report, reject)(next))
	defer srv.Close()

	post := func(path, body string) *http.Response {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("/v2/contacts", `{"email":"a@b.c","tags":["x"]}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("valid request answered %d", resp.StatusCode)
	}
	if resp := post("/v2/contacts", `{"email":"a@b.c"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid request answered %d, want the provider's 400", resp.StatusCode)
	}
	if resp := post("/v2/unknown", `{}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown operation answered %d", resp.StatusCode)
	}
	if diff := cmp.Diff([]string{`POST /v2/contacts {"email":"a@b.c","tags":["x"]}`}, seen); diff != "" {
		t.Errorf("requests the handler saw (-want +got):\n%s", diff)
	}
	if len(reports) != 2 || !strings.Contains(reports[0], "POST /v2/contacts") || !strings.Contains(reports[1], "/v2/unknown") {
		t.Errorf("reports %q, want the two mismatches", reports)
	}

	var none *providertest.Validator
	if h := none.Middleware(report, reject)(next); fmt.Sprintf("%p", h) != fmt.Sprintf("%p", next) {
		t.Error("a nil Validator's middleware is not a pass-through")
	}
	if err := none.Validate(httptest.NewRequest("GET", "/anything", nil), nil); err != nil {
		t.Errorf("a nil Validator refused a request: %v", err)
	}
}

// tb records what Require and Need do to a test.
type tb struct {
	testing.TB
	logs, fatals, skips []string
}

func (r *tb) Skipf(format string, args ...any) {
	r.skips = append(r.skips, fmt.Sprintf(format, args...))
}

func (r *tb) Helper()                         {}
func (r *tb) Logf(format string, args ...any) { r.logs = append(r.logs, fmt.Sprintf(format, args...)) }
func (r *tb) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	write := func(rel string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkout := filepath.Join(root, "work", "repo")
	deep := filepath.Join(checkout, "plugins", "acme", "fake")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	t.Setenv(providertest.SpecsDirEnv, "")

	_, err := providertest.Locate("acme", "crm.yaml")
	if !errors.Is(err, providertest.ErrNoSpecs) || !strings.Contains(err.Error(), "make specs") || !strings.Contains(err.Error(), providertest.SpecsDirEnv) {
		t.Fatalf("nothing anywhere: %v, want ErrNoSpecs naming make specs and %s", err, providertest.SpecsDirEnv)
	}

	write("work/repo/.specs/acme/crm.yaml")
	if got, err := providertest.Locate("acme", "crm.yaml"); err != nil || got != filepath.Join(checkout, ".specs", "acme") {
		t.Fatalf("the checkout's .specs: %q, %v", got, err)
	}
	write("work/shared/specs/acme/crm.yaml")
	if got, err := providertest.Locate("acme", "crm.yaml"); err != nil || got != filepath.Join(root, "work", "shared", "specs", "acme") {
		t.Fatalf("../shared/specs before .specs: %q, %v", got, err)
	}

	write("env/acme/crm.yaml")
	t.Setenv(providertest.SpecsDirEnv, filepath.Join(root, "env"))
	if got, err := providertest.Locate("acme", "crm.yaml"); err != nil || got != filepath.Join(root, "env", "acme") {
		t.Fatalf("%s first: %q, %v", providertest.SpecsDirEnv, got, err)
	}
	t.Setenv(providertest.SpecsDirEnv, filepath.Join(root, "env", "acme"))
	if got, err := providertest.Locate("acme", "crm.yaml"); err != nil || got != filepath.Join(root, "env", "acme") {
		t.Fatalf("%s naming the provider's folder: %q, %v", providertest.SpecsDirEnv, got, err)
	}
	t.Setenv(providertest.SpecsDirEnv, t.TempDir())
	if _, err := providertest.Locate("acme", "crm.yaml"); err == nil || errors.Is(err, providertest.ErrNoSpecs) {
		t.Fatalf("a %s without the specs: %v, want an error that is not skipped", providertest.SpecsDirEnv, err)
	}
}

func TestRequire(t *testing.T) {
	present := providertest.Spec{Provider: "acme", Files: []string{"crm.yaml"}, Dir: fixture(t)}
	t.Chdir(t.TempDir())
	t.Setenv(providertest.SpecsDirEnv, "")
	missing := providertest.Spec{Provider: "nowhere", Files: []string{"api.json"}}

	t.Setenv("CI", "")
	r := &tb{}
	if v := missing.Require(r); v != nil || len(r.fatals) != 0 {
		t.Fatalf("outside CI: validator %v, fatals %q; want nil and no failure", v, r.fatals)
	}
	if len(r.logs) != 1 || !strings.Contains(r.logs[0], "SPEC VALIDATION SKIPPED") || !strings.Contains(r.logs[0], "make specs") {
		t.Errorf("outside CI the skip is not announced with the command: %q", r.logs)
	}

	t.Setenv("CI", "true")
	r = &tb{}
	missing.Require(r)
	if len(r.fatals) != 1 {
		t.Errorf("in CI missing specs did not fail the test: fatals %q", r.fatals)
	}

	t.Setenv("CI", "")
	r = &tb{}
	if v := missing.Need(r); v != nil || len(r.skips) != 1 || len(r.fatals) != 0 || !strings.Contains(r.skips[0], "make specs") {
		t.Errorf("Need outside CI without specs: validator %v, skips %q, fatals %q; want a skip naming make specs", v, r.skips, r.fatals)
	}
	t.Setenv("CI", "true")
	r = &tb{}
	if missing.Need(r); len(r.fatals) != 1 || len(r.skips) != 0 {
		t.Errorf("Need in CI without specs: skips %q, fatals %q; want a failure", r.skips, r.fatals)
	}

	t.Setenv("CI", "")
	r = &tb{}
	if v := present.Need(r); v == nil || len(r.skips)+len(r.fatals) != 0 {
		t.Errorf("Need with specs: validator %v, skips %q, fatals %q", v, r.skips, r.fatals)
	}
	r = &tb{}
	if v := present.Require(r); v == nil || len(r.fatals)+len(r.logs) != 0 {
		t.Errorf("present specs: validator %v, fatals %q, logs %q", v, r.fatals, r.logs)
	}
}
