package providertest

import (
	"fmt"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
)

// Relaxation fixes one known defect of a provider's document in memory,
// before requests are validated against it: the real API accepts what the
// document rejects. The files are never edited.
type Relaxation struct {
	// File is the document it applies to (one of Spec.Files); empty
	// applies it to every document.
	File string
	// Why names the defect and what the real API does instead. Required:
	// a relaxation nobody can explain is a hole in the validation.
	Why string
	// Apply changes the document. It returns an error when what it
	// relaxes is not there (a spec update fixed or moved it), so the
	// relaxation is removed rather than left to hide something else.
	Apply func(doc *openapi3.T) error
}

// Schema returns the named component schema of doc. Errors: when doc has
// no such schema.
func Schema(doc *openapi3.T, name string) (*openapi3.Schema, error) {
	if doc.Components != nil {
		if ref := doc.Components.Schemas[name]; ref != nil && ref.Value != nil {
			return ref.Value, nil
		}
	}
	return nil, fmt.Errorf("no component schema %q", name)
}

// Property returns the named property of schema in doc. Errors: when
// either is missing.
func Property(doc *openapi3.T, schema, property string) (*openapi3.Schema, error) {
	s, err := Schema(doc, schema)
	if err != nil {
		return nil, err
	}
	if ref := s.Properties[property]; ref != nil && ref.Value != nil {
		return ref.Value, nil
	}
	return nil, fmt.Errorf("component schema %q has no property %q", schema, property)
}

// Unrequire is the commonest relaxation: properties of a component schema
// that the document marks required and the real API does not require.
// Without properties, nothing in the schema stays required. Apply fails
// when the schema does not exist or a named property is not required.
func Unrequire(file, schema, why string, properties ...string) Relaxation {
	return Relaxation{File: file, Why: why, Apply: func(doc *openapi3.T) error {
		s, err := Schema(doc, schema)
		if err != nil {
			return err
		}
		if len(properties) == 0 {
			s.Required = nil
			return nil
		}
		for _, p := range properties {
			if !slices.Contains(s.Required, p) {
				return fmt.Errorf("%s.%s is not required", schema, p)
			}
		}
		s.Required = slices.DeleteFunc(s.Required, func(p string) bool { return slices.Contains(properties, p) })
		return nil
	}}
}
