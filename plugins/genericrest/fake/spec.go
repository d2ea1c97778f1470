package fake

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// OpenAPI is the Sample CRM's OpenAPI 3.0 document: the fake serves it at
// /openapi.json and validates every request against it.
//
//go:embed openapi.json
var OpenAPI []byte

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// router loads the document once per process.
func router() (routers.Router, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			specErr = fmt.Errorf("the Sample CRM's OpenAPI document: %w", err)
			return
		}
		doc.Servers = nil // the fake serves the paths on its own host
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

var validateOptions = &openapi3filter.Options{
	// The fake checks credentials itself, answering as the Sample CRM
	// does; the document's security schemes say which kinds it takes.
	AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
	SkipSettingDefaults: true,
	// Keep request values (secrets, personal data) out of messages.
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
}

// unknownOperation is a request for an operation the document lacks.
type unknownOperation struct{ error }

// validate checks a request against the document. Messages name the
// parameter or body location, never a value.
func validate(r *http.Request, body []byte) error {
	rt, err := router()
	if err != nil {
		return err
	}
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := rt.FindRoute(req)
	if err != nil {
		return unknownOperation{fmt.Errorf("%s %s is not an operation of the Sample CRM's OpenAPI document", r.Method, r.URL.Path)}
	}
	return openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: validateOptions,
	})
}
