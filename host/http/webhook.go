package http

import (
	"errors"
	"io"
	nethttp "net/http"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/sdk"
	"github.com/gin-gonic/gin"
)

// webhook receives a provider's inbound webhook at its one URL
// (/webhooks/{provider}, any method: some providers validate the URL with
// HEAD or GET). The raw body goes to the driver, which verifies it and
// names the provider accounts it concerns; the host routes it to the
// tenants connected to those accounts. A reply the driver asks for (a
// handshake, a SOAP acknowledgement) is sent as is; otherwise 200 with
// the count of events, how many were stored and how many were already
// stored (a retry). Either way the events are stored before the answer
// (see broker.ReceiveWebhook). A bad signature is 401.
func (s *Server) webhook(c *gin.Context) {
	body, err := io.ReadAll(nethttp.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *nethttp.MaxBytesError
		if errors.As(err, &mbe) {
			fail(c, &host.Error{Code: host.CodeTooLarge, Field: "body", Message: "is larger than the host accepts"})
			return
		}
		fail(c, invalid("body", "could not be read"))
		return
	}
	req := sdk.WebhookRequest{Method: c.Request.Method, URL: s.requestURL(c.Request), Headers: c.Request.Header, Body: body}
	a := broker.Actor{Type: host.ActorSystem, ID: "webhook", RequestID: requestID(c)}
	rcpt, err := s.cfg.Broker.ReceiveWebhook(reqCtx(c), a, c.Param("provider"), req)
	if sdk.CodeOf(err) == sdk.CodeAuth {
		err = &host.Error{Code: host.CodeUnauthenticated, Message: "the webhook did not verify: " + sdk.AsError(err).Message}
	}
	if err != nil {
		fail(c, err)
		return
	}
	if r := rcpt.Reply; r != nil {
		for k, vs := range r.Header {
			for _, v := range vs {
				c.Writer.Header().Add(k, v)
			}
		}
		status := r.Status
		if status == 0 {
			status = nethttp.StatusOK
		}
		c.Status(status)
		_, _ = c.Writer.Write(r.Body)
		return
	}
	n := 0
	for _, d := range rcpt.Deliveries {
		n += len(d.Events)
	}
	c.JSON(nethttp.StatusOK, gin.H{"received": n, "tenants": len(rcpt.Deliveries), "stored": rcpt.Stored, "duplicates": rcpt.Duplicates})
}

// requestURL is the URL a provider called, as it signed it: the host's
// public base URL with the request's path and query.
func (s *Server) requestURL(r *nethttp.Request) string {
	return s.baseURL(r) + r.URL.RequestURI()
}
