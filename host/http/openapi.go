package http

import (
	_ "embed"
	nethttp "net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route, kept in
// the repository next to the handlers it describes. The tests check that it
// names exactly the router's routes and that live responses match it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document (JSON) that GET /openapi.json
// serves. The caller may modify the returned slice.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// openAPI serves the document.
func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(nethttp.StatusOK, "application/json", openAPIDocument)
}
