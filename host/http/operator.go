package http

import (
	"context"
	"encoding/base64"
	"fmt"
	nethttp "net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
	"github.com/gin-gonic/gin"
)

// operatorActor is the named operator behind an operator request.
func operatorActor(c *gin.Context) broker.Actor {
	op, _ := c.Get(ctxOperator)
	name := "operator"
	if o, ok := op.(host.Operator); ok {
		name = o.Name
	}
	return broker.Actor{Type: host.ActorOperator, ID: name, RequestID: requestID(c)}
}

// audit records an operator's action (tenant "" for host-wide ones).
func (s *Server) audit(c *gin.Context, tenant, action, detail string) {
	s.cfg.Broker.Audit(reqCtx(c), operatorActor(c), tenant, action, host.OutcomeOK, detail)
}

func (s *Server) listDrivers(c *gin.Context) {
	ds, err := s.cfg.Store.ListDrivers(reqCtx(c))
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]driverJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDriverJSON(d))
	}
	c.JSON(nethttp.StatusOK, gin.H{"drivers": out})
}

// driverJSON is a catalog entry: File is the binary's name in the host's
// plugin directory.
type driverJSON struct {
	Slug             string    `json:"slug"`
	Version          string    `json:"version"`
	File             string    `json:"file"`
	SHA256           string    `json:"sha256"`
	ProtocolVersions []int     `json:"protocol_versions"`
	RegisteredAt     time.Time `json:"registered_at,omitzero"`
}

func toDriverJSON(d host.DriverEntry) driverJSON {
	if d.ProtocolVersions == nil {
		d.ProtocolVersions = []int{}
	}
	return driverJSON{d.Slug, d.Version, d.Command, d.SHA256, d.ProtocolVersions, d.RegisteredAt}
}

// registerDriver registers a binary of the plugin directory by file name
// (see drivers.Manager.Register): the host hashes, launches and asks it;
// the caller supplies no path, arguments or checksum.
func (s *Server) registerDriver(c *gin.Context) {
	var in struct {
		File string `json:"file"`
		Slug string `json:"slug,omitempty"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	if in.File == "" {
		fail(c, invalid("file", "is required: the file name of a driver binary in the host's plugin directory"))
		return
	}
	e, err := s.cfg.Drivers.Register(reqCtx(c), s.cfg.Store, in.File, in.Slug)
	if err != nil {
		fail(c, err)
		return
	}
	s.audit(c, "", "driver.register", fmt.Sprintf("%s %s file %s sha256 %s", e.Slug, e.Version, e.Command, e.SHA256))
	c.Header("Location", "/api/operator/drivers/"+url.PathEscape(e.Slug))
	c.JSON(nethttp.StatusCreated, toDriverJSON(e))
}

func (s *Server) describeDriver(c *gin.Context) {
	// An unregistered slug is a plain 404, every time: ask the catalog
	// before the supervisor tries (and backs off from) launching it.
	if _, err := s.cfg.Store.GetDriver(reqCtx(c), s.cfg.Drivers.Resolve(c.Param("slug"))); err != nil {
		fail(c, err)
		return
	}
	d, err := s.cfg.Drivers.Describe(reqCtx(c), c.Param("slug"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, d)
}

func (s *Server) removeDriver(c *gin.Context) {
	if err := s.cfg.Store.RemoveDriver(reqCtx(c), c.Param("slug")); err != nil {
		fail(c, err)
		return
	}
	s.cfg.Drivers.Forget(c.Param("slug"))
	s.audit(c, "", "driver.remove", c.Param("slug"))
	c.Status(nethttp.StatusNoContent)
}

// operatorHealth is the operator's view of this host: its store and every
// registered driver's process on this replica (drivers.DriverStatus). A
// registered driver nobody has called here yet is "idle": drivers start on
// their first call. An empty drivers object means no driver is registered.
func (s *Server) operatorHealth(c *gin.Context) {
	ctx, cancel := context.WithTimeout(reqCtx(c), 2*time.Second)
	defer cancel()
	store := "ok"
	if err := s.cfg.Store.Ping(ctx); err != nil {
		store = "unreachable: " + err.Error()
	}
	status := s.cfg.Drivers.Status()
	drv := map[string]drivers.DriverStatus{}
	ds, err := s.cfg.Store.ListDrivers(ctx)
	if err != nil {
		store = "unreachable: " + err.Error()
	}
	for _, d := range ds {
		st, ok := status[d.Slug]
		if !ok {
			st = drivers.DriverStatus{State: drivers.StateIdle}
		}
		drv[d.Slug] = st
	}
	for slug, st := range status { // still running after its entry was removed
		if _, ok := drv[slug]; !ok {
			drv[slug] = st
		}
	}
	c.JSON(nethttp.StatusOK, gin.H{"store": store, "drivers": drv})
}

type tenantJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// listTenants answers a keyset page of the tenants, oldest first:
// ?limit= (1 to 1000, default 100) and ?cursor= (the previous page's
// next_cursor, opaque). A full page carries next_cursor. Errors:
// CodeInvalid naming limit or cursor.
func (s *Server) listTenants(c *gin.Context) {
	f := host.TenantPage{}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > host.MaxListLimit {
			fail(c, invalid("limit", fmt.Sprintf("must be a number between 1 and %d", host.MaxListLimit)))
			return
		}
		f.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := decodeTenantCursor(v)
		if err != nil {
			fail(c, err)
			return
		}
		f.After = cur
	}
	ts, err := s.cfg.Store.ListTenantsPage(reqCtx(c), f)
	if err != nil {
		fail(c, err)
		return
	}
	out := make([]tenantJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tenantJSON{t.ID, t.Name, t.CreatedAt})
	}
	resp := gin.H{"tenants": out}
	if n := len(ts); n > 0 && n == host.ListLimit(f.Limit) {
		resp["next_cursor"] = encodeTenantCursor(host.CursorOf(ts[n-1]))
	}
	c.JSON(nethttp.StatusOK, resp)
}

// encodeTenantCursor makes a tenant cursor opaque: base64url of the
// creation time (Unix microseconds) and the ID.
func encodeTenantCursor(c *host.TenantCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + ":" + c.ID))
}

// decodeTenantCursor reads encodeTenantCursor's cursors. Errors:
// CodeInvalid naming cursor.
func decodeTenantCursor(v string) (*host.TenantCursor, error) {
	bad := invalid("cursor", "is not a cursor this route returned (pass next_cursor as it is)")
	if len(v) > 512 {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	micros, id, ok := strings.Cut(string(raw), ":")
	us, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || id == "" || !utf8.ValidString(id) {
		return nil, bad
	}
	return &host.TenantCursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

func (s *Server) createTenant(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	// host.Tenant.Validate refuses a blank, long or unprintable name
	// (CodeInvalid naming name), here and in `crmhost tenant create`.
	t, err := s.cfg.Store.CreateTenant(reqCtx(c), host.Tenant{Name: in.Name})
	if err != nil {
		fail(c, err)
		return
	}
	s.audit(c, t.ID, "tenant.create", "name "+strconv.Quote(t.Name))
	c.Header("Location", "/api/operator/tenants/"+url.PathEscape(t.ID))
	c.JSON(nethttp.StatusCreated, tenantJSON{t.ID, t.Name, t.CreatedAt})
}

func (s *Server) getTenant(c *gin.Context) {
	t, err := s.cfg.Store.GetTenant(reqCtx(c), c.Param("tenant_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, tenantJSON{t.ID, t.Name, t.CreatedAt})
}

func (s *Server) deleteTenant(c *gin.Context) {
	defer s.cfg.Broker.Forget(c.Param("tenant_id"))
	if err := s.cfg.Store.DeleteTenant(reqCtx(c), c.Param("tenant_id")); err != nil {
		fail(c, err)
		return
	}
	s.audit(c, c.Param("tenant_id"), "tenant.delete", "")
	c.Status(nethttp.StatusNoContent)
}

type connectionJSON struct {
	TenantID     string            `json:"tenant_id"`
	Provider     string            `json:"provider"`
	Status       string            `json:"status"`
	StatusReason string            `json:"status_reason,omitempty"`
	Config       map[string]string `json:"config"`
	AccountID    string            `json:"account_id,omitempty"`
	ObjectsAt    *time.Time        `json:"objects_listed_at,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	// Credential is set on GET: the stored credential's version, expiry
	// and last change (never its contents).
	Credential *broker.CredentialInfo `json:"credential,omitempty"`
	// Mirror says, on GET, which mirrored classes the connection can hold.
	Mirror []broker.ClassSupport `json:"mirror,omitempty"`
}

func toConnectionJSON(x host.Connection) connectionJSON {
	if x.Config == nil {
		x.Config = map[string]string{}
	}
	return connectionJSON{TenantID: x.TenantID, Provider: x.Provider, Status: string(x.Status), StatusReason: x.StatusReason,
		Config: x.Config, AccountID: x.AccountID, ObjectsAt: x.ObjectsAt, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
}

func (s *Server) connect(c *gin.Context) {
	var in struct {
		Provider    string            `json:"provider"`
		Credentials map[string]string `json:"credentials"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	conn, res, err := s.cfg.Broker.Connect(reqCtx(c), operatorActor(c), c.Param("tenant_id"), broker.ConnectInput{Provider: in.Provider, Credentials: in.Credentials})
	if err != nil {
		fail(c, err)
		return
	}
	s.answerConnect(c, conn, res)
}

// answerConnect answers a connect: the connection, its test, and which
// mirrored classes it can hold (a class it cannot is audited as
// connection.mirror and its rows are kept, never purged as mirrored).
func (s *Server) answerConnect(c *gin.Context, conn host.Connection, res any) {
	out := gin.H{"connection": toConnectionJSON(conn), "test": res}
	if cs := s.classSupport(c, conn.TenantID); cs != nil {
		out["mirror"] = cs
		if missing := unsupportedClasses(cs); missing != "" {
			s.audit(c, conn.TenantID, "connection.mirror", "cannot hold: "+missing)
		}
	}
	c.JSON(nethttp.StatusOK, out)
}

// unsupportedClasses names the classes a support report says the
// connection cannot hold.
func unsupportedClasses(cs []broker.ClassSupport) string {
	out := ""
	for _, c := range cs {
		if !c.Supported {
			if out != "" {
				out += ","
			}
			out += string(c.Class)
		}
	}
	return out
}

// editConnection changes some of a connection's settings: config keys and
// secret fields not given keep their stored values (an empty value
// removes one), and the connection is proven again.
func (s *Server) editConnection(c *gin.Context) {
	var in struct {
		Credentials map[string]string `json:"credentials"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	cur, err := s.cfg.Broker.Connection(reqCtx(c), c.Param("tenant_id"))
	if err != nil {
		fail(c, err)
		return
	}
	conn, res, err := s.cfg.Broker.Connect(reqCtx(c), operatorActor(c), c.Param("tenant_id"),
		broker.ConnectInput{Provider: cur.Provider, Credentials: in.Credentials, Merge: true})
	if err != nil {
		fail(c, err)
		return
	}
	s.answerConnect(c, conn, res)
}

func (s *Server) getConnection(c *gin.Context) {
	conn, err := s.cfg.Broker.Connection(reqCtx(c), c.Param("tenant_id"))
	if err != nil {
		fail(c, err)
		return
	}
	out := toConnectionJSON(conn)
	out.Mirror = s.classSupport(c, conn.TenantID)
	if cred, err := s.cfg.Broker.Credential(reqCtx(c), conn.TenantID); err == nil {
		out.Credential = &cred
	} else if host.CodeOf(err) != host.CodeNotFound {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

func (s *Server) testConnection(c *gin.Context) {
	conn, res, err := s.cfg.Broker.Test(reqCtx(c), operatorActor(c), c.Param("tenant_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"connection": toConnectionJSON(conn), "test": res})
}

type mappingJSON struct {
	Kind      string    `json:"kind"`
	Key       string    `json:"key"`
	Target    string    `json:"target"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func toMappingsJSON(ms []host.FieldMapping) []mappingJSON {
	out := make([]mappingJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, mappingJSON{string(m.Kind), m.Key, m.Target, m.UpdatedAt})
	}
	return out
}

func (s *Server) listMappings(c *gin.Context) {
	m, err := s.cfg.Broker.ListMappings(reqCtx(c), c.Param("tenant_id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, gin.H{"overrides": toMappingsJSON(m.Overrides), "effective": toMappingsJSON(m.Effective)})
}

func (s *Server) setMapping(c *gin.Context) {
	var in struct {
		Target string `json:"target"`
	}
	if err := bind(c, s.cfg.MaxBodyBytes, &in); err != nil {
		fail(c, err)
		return
	}
	m, err := s.cfg.Broker.SetMapping(reqCtx(c), operatorActor(c), host.FieldMapping{TenantID: c.Param("tenant_id"),
		Kind: host.MappingKind(c.Param("kind")), Key: c.Param("key"), Target: in.Target})
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, toMappingsJSON([]host.FieldMapping{m})[0])
}

func (s *Server) deleteMapping(c *gin.Context) {
	kind := host.MappingKind(c.Param("kind"))
	if !kind.Valid() {
		fail(c, invalid("kind", "must be read, write, object or trigger"))
		return
	}
	if err := s.cfg.Broker.DeleteMapping(reqCtx(c), operatorActor(c), c.Param("tenant_id"), kind, c.Param("key")); err != nil {
		fail(c, err)
		return
	}
	c.Status(nethttp.StatusNoContent)
}

func (s *Server) fields(c *gin.Context) {
	out, err := s.cfg.Broker.Fields(reqCtx(c), operatorActor(c), c.Param("tenant_id"), c.Param("object"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, out)
}

// tenantAudit is a tenant's audit trail.
func (s *Server) tenantAudit(c *gin.Context) {
	tenant := c.Param("tenant_id")
	if _, err := s.cfg.Store.GetTenant(reqCtx(c), tenant); err != nil {
		fail(c, err)
		return
	}
	s.listAudit(c, tenant)
}

// hostAudit is the whole audit trail, host-wide actions (driver
// registrations) included; ?tenant_id narrows it to one tenant.
func (s *Server) hostAudit(c *gin.Context) { s.listAudit(c, c.Query("tenant_id")) }

// listAudit answers an audit page for tenant ("" for every row).
func (s *Server) listAudit(c *gin.Context, tenant string) {
	f := host.AuditFilter{TenantID: tenant, Action: c.Query("action"), ActorID: c.Query("actor_id"), Outcome: c.Query("outcome"),
		RequestID: c.Query("request_id"), ConversationID: c.Query("conversation_id")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				fail(c, invalid(name, "must be an RFC 3339 time"))
				return
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*int64{"before": &f.BeforeID} {
		if v := c.Query(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				fail(c, invalid(name, "must be a positive audit entry id"))
				return
			}
			*dst = n
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > host.MaxListLimit {
			fail(c, invalid("limit", "must be between 1 and 1000"))
			return
		}
		f.Limit = n
	}
	// Rows this host buffered are stored first, so a reader sees them.
	if err := s.cfg.Broker.FlushAudit(reqCtx(c)); err != nil {
		fail(c, err)
		return
	}
	entries, err := s.cfg.Store.ListAudit(reqCtx(c), f)
	if err != nil {
		fail(c, err)
		return
	}
	type entryJSON struct {
		ID             int64     `json:"id"`
		At             time.Time `json:"at"`
		ActorType      string    `json:"actor_type"`
		ActorID        string    `json:"actor_id"`
		Action         string    `json:"action"`
		RequestID      string    `json:"request_id,omitempty"`
		ConversationID string    `json:"conversation_id,omitempty"`
		Outcome        string    `json:"outcome"`
		Detail         string    `json:"detail,omitempty"`
	}
	out := make([]entryJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, entryJSON{e.ID, e.At, string(e.ActorType), e.ActorID, e.Action, e.RequestID, e.ConversationID, e.Outcome, e.Detail})
	}
	resp := gin.H{"entries": out}
	if n := len(entries); n > 0 && n == host.ListLimit(f.Limit) {
		resp["next_before"] = entries[n-1].ID
	}
	c.JSON(nethttp.StatusOK, resp)
}
