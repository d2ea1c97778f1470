package genericrest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"crmhost.dev/sdk"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// SchemaJSON is the published JSON Schema (draft 2020-12) of a connector
// definition, also in this package's definition.schema.json.
//
//go:embed definition.schema.json
var SchemaJSON []byte

// schemaID is the schema's $id.
const schemaID = "https://crmhost.dev/schemas/genericrest/definition-v1.json"

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

func definitionSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(schemaID, doc); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile(schemaID)
	})
	return schema, schemaErr
}

// ParseDefinition reads a connector definition (YAML or JSON), checks it
// against the JSON Schema and decodes it. It does not compile templates
// or paths (Compile does). Errors: CodeInvalid naming "definition" or the
// failing part ("definition.objects.contacts.create.method").
func ParseDefinition(raw []byte) (Definition, error) {
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		return Definition{}, sdk.Invalid(fieldDefinition, "is required: the connector definition (YAML or JSON) goes in the connection's %q setting", ConfigDefinition)
	case len(raw) > MaxDefinitionBytes:
		return Definition{}, sdk.Invalid(fieldDefinition, "is %d bytes, at most %d", len(raw), MaxDefinitionBytes)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Definition{}, sdk.Invalid(fieldDefinition, "is neither valid YAML nor JSON: %s", oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	// Through JSON: YAML's integers, anchors and the like become plain
	// JSON values, and a map with a non-string key is refused.
	js, err := json.Marshal(jsonable(doc))
	if err != nil {
		return Definition{}, sdk.Invalid(fieldDefinition, "cannot be read as JSON: %s (map keys must be strings)", oneLine(err.Error()))
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return Definition{}, sdk.Invalid(fieldDefinition, "cannot be read as JSON: %s", oneLine(err.Error()))
	}
	sch, err := definitionSchema()
	if err != nil {
		return Definition{}, fmt.Errorf("genericrest: the definition schema does not compile: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return Definition{}, schemaError(ve, inst)
		}
		return Definition{}, sdk.Invalid(fieldDefinition, "does not match the definition schema: %s", oneLine(err.Error()))
	}
	var def Definition
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return Definition{}, sdk.Invalid(fieldDefinition, "cannot be decoded: %s", oneLine(err.Error()))
	}
	return def, nil
}

// jsonable turns what YAML decoded into values encoding/json can encode:
// maps with non-string keys stay map[any]any and fail there.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return x // encoding/json refuses it, with the key's type
			}
			out[ks] = jsonable(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	}
	return v
}

var printer = message.NewPrinter(language.English)

// schemaError turns the schema validator's error tree into one error
// naming the most specific failing place: the deepest leaf, first in
// document order.
func schemaError(ve *jsonschema.ValidationError, inst any) error {
	var leaves []*jsonschema.ValidationError
	names := map[*jsonschema.ValidationError]string{} // leaves about a key's name
	var walk func(e *jsonschema.ValidationError, name *kind.PropertyNames, at []string)
	walk = func(e *jsonschema.ValidationError, name *kind.PropertyNames, at []string) {
		if pn, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			name, at = pn, e.InstanceLocation
		}
		if len(e.Causes) == 0 {
			if name != nil {
				// A key's name is validated as an instance of its own:
				// report it at the map that holds it (found in the
				// document: the validator's location for it is not
				// reliable).
				leaf := *e
				if loc, ok := findKey(inst, name.Property, nil); ok {
					at = loc
				}
				leaf.InstanceLocation = at
				names[&leaf] = name.Property
				e = &leaf
			}
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c, name, at)
		}
	}
	walk(ve, nil, nil)
	// An unknown setting is reported only when nothing else is wrong: a
	// failing part of a schema leaves its siblings "unevaluated", which
	// would otherwise hide the real mistake.
	unknownSetting := func(e *jsonschema.ValidationError) bool {
		switch e.ErrorKind.(type) {
		case *kind.FalseSchema, *kind.AdditionalProperties:
			return true
		}
		return false
	}
	sort.SliceStable(leaves, func(i, j int) bool {
		if a, b := unknownSetting(leaves[i]), unknownSetting(leaves[j]); a != b {
			return b
		}
		if len(leaves[i].InstanceLocation) != len(leaves[j].InstanceLocation) {
			return len(leaves[i].InstanceLocation) > len(leaves[j].InstanceLocation)
		}
		return strings.Join(leaves[i].InstanceLocation, ".") < strings.Join(leaves[j].InstanceLocation, ".")
	})
	leaf := leaves[0]
	loc := append([]string{fieldDefinition}, leaf.InstanceLocation...)
	msg := leaf.ErrorKind.LocalizedString(printer)
	if n, ok := names[leaf]; ok {
		msg = fmt.Sprintf("has a key %q that is not allowed: %s", n, msg)
	}
	switch k := leaf.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		if len(k.Properties) > 0 {
			loc = append(loc, k.Properties[0])
			msg = "is not a setting the definition schema knows here"
		}
	case *kind.Required:
		if len(k.Missing) > 0 {
			loc = append(loc, k.Missing[0])
			msg = "is required"
		}
	case *kind.FalseSchema:
		msg = "is not a setting the definition schema knows here"
	}
	more := ""
	if n := len(leaves) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more problem%s)", n, plural(n))
	}
	return sdk.Invalid(strings.Join(loc, "."), "%s%s", msg, more)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// unmarshalYAMLorJSON decodes a YAML or JSON document into v through
// JSON, so v's json tags (and UnmarshalJSON methods) apply.
func unmarshalYAMLorJSON(data []byte, v any) error {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	js, err := json.Marshal(jsonable(doc))
	if err != nil {
		return err
	}
	return json.Unmarshal(js, v)
}

// findKey returns the location of the first map in v (depth first, keys
// in order) that has key.
func findKey(v any, key string, at []string) ([]string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		if l, ok := v.([]any); ok {
			for i, e := range l {
				if loc, ok := findKey(e, key, append(at, fmt.Sprint(i))); ok {
					return loc, true
				}
			}
		}
		return nil, false
	}
	if _, ok := m[key]; ok {
		return append([]string(nil), at...), true
	}
	for _, k := range sortedKeys(m) {
		if loc, ok := findKey(m[k], key, append(at, k)); ok {
			return loc, true
		}
	}
	return nil, false
}
