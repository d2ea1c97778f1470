package fake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"crmhost.dev/plugins/webhook/contract"
	"github.com/getkin/kin-openapi/openapi3"
)

// The contract the fake validates against: the bridge's own published
// OpenAPI 3.1 document (its webhooks are the envelope types).
var (
	contractOnce sync.Once
	contractDoc  *openapi3.T
	contractErr  error
)

func loadContract() (*openapi3.T, error) {
	contractOnce.Do(func() {
		l := openapi3.NewLoader()
		contractDoc, contractErr = l.LoadFromData(contract.OpenAPI)
		if contractErr == nil {
			contractErr = contractDoc.Validate(l.Context)
		}
	})
	return contractDoc, contractErr
}

// operation returns the contract's operation for an envelope type and
// method, or nil.
func operation(doc *openapi3.T, typ, method string) *openapi3.Operation {
	item := doc.Webhooks[typ]
	if item == nil {
		return nil
	}
	return item.GetOperation(method)
}

// checkEnvelope validates a decoded envelope against the contract's
// request schema for its type and method. Messages name the failing
// location, never a value.
func checkEnvelope(doc *openapi3.T, method string, payload []byte) (string, error) {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return "", fmt.Errorf("the envelope is not a JSON object: %v", err)
	}
	op := operation(doc, probe.Type, method)
	if op == nil {
		return probe.Type, fmt.Errorf("%s %q is not an envelope type of the contract", method, probe.Type)
	}
	// A GET carries the POST's envelope in its query parameter.
	body := op
	if method != "POST" {
		body = operation(doc, probe.Type, "POST")
	}
	return probe.Type, visit(body.RequestBody.Value.Content.Get("application/json").Schema.Value, payload)
}

// checkAnswer validates an answer the fake gives against the contract's
// response schema for its type and status.
func checkAnswer(doc *openapi3.T, typ string, status int, body []byte) error {
	op := operation(doc, typ, "POST")
	if op == nil {
		return nil
	}
	code := strconv.Itoa(status)
	if status >= 200 && status <= 299 {
		code = "200"
	}
	resp := op.Responses.Value(code)
	if resp == nil || resp.Value == nil || len(body) == 0 {
		return nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return visit(mt.Schema.Value, body)
}

func visit(s *openapi3.Schema, raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	return s.VisitJSON(v, openapi3.MultiErrors())
}
