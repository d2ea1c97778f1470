package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// LoadDocument loads an API description from path: OpenAPI 3 as it is,
// Swagger 2 converted to OpenAPI 3 (kin-openapi's openapi2conv), either
// in JSON or YAML. References to other files next to it are followed.
// Servers are rewritten for a fake (see FakeServers). Errors: unreadable
// or invalid documents, naming path.
func LoadDocument(path string) (*openapi3.T, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc *openapi3.T
	if isSwagger2(raw) {
		var doc2 openapi2.T
		if err := openapi2.UnmarshalFromData(raw, &doc2); err != nil {
			return nil, fmt.Errorf("load %s (Swagger 2): %w", path, err)
		}
		if doc, err = openapi2conv.ToV3(&doc2); err != nil {
			return nil, fmt.Errorf("convert %s from Swagger 2: %w", path, err)
		}
	} else {
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = true
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		if doc, err = loader.LoadFromDataWithPath(raw, &url.URL{Path: filepath.ToSlash(abs)}); err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
	}
	FakeServers(doc)
	return doc, nil
}

// swagger2 finds a top-level "swagger": "2.x" in JSON or YAML.
var swagger2 = regexp.MustCompile(`(?m)^\s*"?swagger"?\s*:\s*["']?2\.`)

func isSwagger2(raw []byte) bool {
	if json.Valid(raw) {
		var head struct {
			Swagger string `json:"swagger"`
		}
		return json.Unmarshal(raw, &head) == nil && bytes.HasPrefix([]byte(head.Swagger), []byte("2."))
	}
	return swagger2.Match(raw)
}

// FakeServers rewrites doc's servers for a fake on any host: each server
// keeps only its path (https://api.acme.com/v2 becomes /v2; server
// variables take their defaults), so requests to the fake's own host and
// port match the same operations as requests to the provider. Duplicates
// are dropped; with none left, paths match from the root. Path items'
// own servers are rewritten the same way.
func FakeServers(doc *openapi3.T) {
	doc.Servers = serverPaths(doc.Servers)
	if doc.Paths == nil {
		return
	}
	for _, item := range doc.Paths.Map() {
		if len(item.Servers) > 0 {
			item.Servers = serverPaths(item.Servers)
		}
	}
}

var serverVar = regexp.MustCompile(`\{([^{}]+)\}`)

func serverPaths(in openapi3.Servers) openapi3.Servers {
	var paths []string
	for _, s := range in {
		if s == nil {
			continue
		}
		raw := serverVar.ReplaceAllStringFunc(s.URL, func(m string) string {
			if v := s.Variables[m[1:len(m)-1]]; v != nil {
				return v.Default
			}
			return ""
		})
		p := "/"
		if u, err := url.Parse(raw); err == nil && u.Path != "" {
			p = u.Path
		}
		if len(p) > 1 && p[len(p)-1] == '/' {
			p = p[:len(p)-1]
		}
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 || (len(paths) == 1 && paths[0] == "/") {
		return nil
	}
	out := make(openapi3.Servers, 0, len(paths))
	for _, p := range paths {
		out = append(out, &openapi3.Server{URL: p})
	}
	return out
}
