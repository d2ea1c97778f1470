package http

import (
	nethttp "net/http"

	"github.com/gin-gonic/gin"
)

// getAppCredentials shows a driver's app credential fields and which are
// set, never their values.
func (s *Server) getAppCredentials(c *gin.Context) {
	out, err := s.cfg.Broker.AppCredentials(reqCtx(c), c.Param("slug"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

// putAppCredentials replaces a driver's app credentials.
func (s *Server) putAppCredentials(c *gin.Context) {
	var in struct {
		Values map[string]string `json:"values"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	out, err := s.cfg.Broker.SetAppCredentials(reqCtx(c), operatorActor(c), c.Param("slug"), in.Values)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

func (s *Server) deleteAppCredentials(c *gin.Context) {
	if err := s.cfg.Broker.DeleteAppCredentials(reqCtx(c), operatorActor(c), c.Param("slug")); err != nil {
		fail(c, err)
		return
	}
	c.Status(nethttp.StatusNoContent)
}

// connectionObjects lists the objects of the tenant's connection with the
// verbs each supports.
func (s *Server) connectionObjects(c *gin.Context) {
	objs, err := s.cfg.Broker.Objects(reqCtx(c), operatorActor(c), c.Param("tenant_id"), false)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"objects": objs})
}

// refreshConnectionObjects lists the connection's objects afresh from the
// provider (for drivers whose objects depend on the connection).
func (s *Server) refreshConnectionObjects(c *gin.Context) {
	objs, err := s.cfg.Broker.Objects(reqCtx(c), operatorActor(c), c.Param("tenant_id"), true)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"objects": objs})
}
