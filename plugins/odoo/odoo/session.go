package odoo

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"crmhost.dev/sdk"
)

// Config keys the driver reads besides the sdk's base_url (the Odoo
// server's address) and default_region.
const (
	configDatabase = "database"
	configUsername = "username"
	// configAPI picks the protocol: auto (by the server's version),
	// jsonrpc or json2.
	configAPI = "api"
	// configDeleteMode is what DeleteRecord does: unlink (default) or
	// archive.
	configDeleteMode = "delete_mode"
	// configServerVersion and configUID are facts the driver learns and
	// sends back as credential updates, so the next call skips the
	// version probe and (JSON-RPC) the authenticate call.
	configServerVersion = "server_version"
	configUID           = "uid"
)

// secretAPIKey is the secret key holding the user's API key.
const secretAPIKey = "api_key"

// Protocols.
const (
	protoJSONRPC = "jsonrpc"
	protoJSON2   = "json2"
)

// session is one call's view of a connection: the server, database and
// user, the protocol chosen by the server's version, and (JSON-RPC) the
// user's uid.
type session struct {
	d       *Driver
	conn    sdk.Connection
	db      string
	login   string
	key     string
	proto   string
	version serverVersion
	uid     int
	// uidFromConfig says the uid came from the connection (and may be
	// stale), not from an authenticate call of this session.
	uidFromConfig bool
}

// serverVersion is an Odoo version: "17.0", "saas~18.2", "19.0".
type serverVersion struct {
	serie        string
	major, minor int
}

func parseServerVersion(s string) (serverVersion, bool) {
	num := strings.TrimPrefix(strings.TrimSpace(s), "saas~")
	maj, min, _ := strings.Cut(num, ".")
	v := serverVersion{serie: strings.TrimSpace(s)}
	var err error
	if v.major, err = strconv.Atoi(maj); err != nil || v.major <= 0 {
		return serverVersion{}, false
	}
	v.minor, _ = strconv.Atoi(strings.TrimRightFunc(min, func(r rune) bool { return r < '0' || r > '9' }))
	return v, true
}

// open checks the connection and prepares a session: the protocol and
// server version from the connection's config (or a version probe), and
// for JSON-RPC the uid (from config, or an authenticate call). What it
// learns goes back to the host as a credential update. fresh ignores the
// learned facts in config (Authorize re-learns them).
//
// Errors: CodeInvalid naming config.base_url, database, username or api
// for missing or unusable settings (a database the server does not have
// included), CodeAuth for a missing or rejected API key, CodeUnavailable,
// CodeRateLimited.
func (d *Driver) open(ctx context.Context, conn sdk.Connection, fresh bool) (*session, error) {
	s := &session{d: d, conn: conn, db: strings.TrimSpace(conn.Config[configDatabase]),
		login: strings.TrimSpace(conn.Config[configUsername]), key: conn.Secret[secretAPIKey]}
	if err := s.checkSettings(); err != nil {
		return nil, err
	}
	var update sdk.CredentialUpdate
	if id := accountID(conn); id != conn.AccountID {
		update.AccountID = id // a new connection, or its URL or database changed
	}
	v, ok := parseServerVersion(conn.Config[configServerVersion])
	if fresh || !ok {
		var err error
		if v, err = d.probeVersion(ctx, conn); err != nil {
			return nil, err
		}
		if v.serie != conn.Config[configServerVersion] {
			update.Config = map[string]string{configServerVersion: v.serie}
		}
	}
	s.version = v
	switch api := conn.Get(configAPI, "auto"); api {
	case protoJSONRPC, protoJSON2:
		s.proto = api
	default:
		s.proto = protoJSONRPC
		if v.major >= 19 {
			s.proto = protoJSON2
		}
	}
	if s.proto == protoJSONRPC {
		if uid, err := strconv.Atoi(conn.Config[configUID]); err == nil && uid > 0 && !fresh {
			s.uid, s.uidFromConfig = uid, true
		} else {
			if err := s.authenticate(ctx); err != nil {
				sdk.UpdateCredential(ctx, update)
				return nil, err
			}
			if update.Config == nil {
				update.Config = map[string]string{}
			}
			update.Config[configUID] = strconv.Itoa(s.uid)
		}
	}
	sdk.UpdateCredential(ctx, update)
	return s, nil
}

// checkSettings reports the first missing or malformed setting.
func (s *session) checkSettings() error {
	raw := s.conn.Config[sdk.ConfigBaseURL]
	switch {
	case strings.TrimSpace(raw) == "":
		return sdk.Invalid("config."+sdk.ConfigBaseURL, "is required: the Odoo server's address, e.g. https://mycompany.odoo.com")
	case s.db == "":
		return sdk.Invalid(configDatabase, "is required: the Odoo database name (on Odoo Online, the part before .odoo.com)")
	case s.login == "":
		return sdk.Invalid(configUsername, "is required: the login (usually an email) of the Odoo user the API key belongs to")
	case s.key == "":
		return sdk.Errorf(sdk.CodeAuth, "the connection has no api_key: create one in Odoo under Preferences → Account Security → New API Key")
	}
	switch api := s.conn.Config[configAPI]; api {
	case "", "auto", protoJSONRPC, protoJSON2:
	default:
		return sdk.Invalid(configAPI, "is %q; use auto, jsonrpc or json2", api)
	}
	switch m := s.conn.Config[configDeleteMode]; m {
	case "", deleteUnlink, deleteArchive:
	default:
		return sdk.Invalid(configDeleteMode, "is %q; use unlink or archive", m)
	}
	return nil
}

// accountID names the Odoo account of a connection: the server's host and
// the database ("mycompany.odoo.com/mycompany").
func accountID(conn sdk.Connection) string {
	u, err := url.Parse(conn.Config[sdk.ConfigBaseURL])
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Host) + "/" + strings.TrimSpace(conn.Config[configDatabase])
}

// probeVersion asks the server its version: common.version over
// JSON-RPC, or GET /web/version on a server without JSON-RPC.
func (d *Driver) probeVersion(ctx context.Context, conn sdk.Connection) (serverVersion, error) {
	var info struct {
		ServerSerie string `json:"server_serie"`
		ServerVer   string `json:"server_version"`
	}
	err := d.jsonrpc(ctx, conn, rpcCall{service: "common", method: "version", args: []any{}}, &info)
	if err == nil {
		for _, s := range []string{info.ServerSerie, info.ServerVer} {
			if v, ok := parseServerVersion(s); ok {
				return v, nil
			}
		}
		return serverVersion{}, sdk.Errorf(sdk.CodeUnavailable, "Odoo answered its version without a version number")
	}
	if !isMissingEndpoint(err) {
		return serverVersion{}, err
	}
	resp, gerr := d.get(ctx, conn, "/web/version")
	if gerr != nil {
		return serverVersion{}, gerr
	}
	var web struct {
		Version string `json:"version"`
	}
	if resp.OK() && resp.DecodeJSON(&web) == nil {
		if v, ok := parseServerVersion(web.Version); ok {
			return v, nil
		}
	}
	return serverVersion{}, sdk.Invalid("config."+sdk.ConfigBaseURL,
		"no Odoo server answers at this address: neither /jsonrpc nor /web/version does (check the URL: it is the address you open Odoo at)")
}

// authenticate runs common.authenticate and keeps the uid. Errors:
// CodeAuth when Odoo answers false (wrong username or API key),
// CodeInvalid naming database when the database does not exist.
func (s *session) authenticate(ctx context.Context) error {
	var uid any
	err := s.d.jsonrpc(ctx, s.conn, rpcCall{service: "common", method: "authenticate",
		args: []any{s.db, s.login, s.key, map[string]any{}}}, &uid)
	if err != nil {
		return s.annotate(err, "")
	}
	n, ok := uid.(float64)
	if !ok || n <= 0 {
		return sdk.Errorf(sdk.CodeAuth, "Odoo refused the username %q or its API key for database %q: check the login and create a new API key (Preferences → Account Security)", s.login, s.db)
	}
	s.uid = int(n)
	return nil
}

// call runs a model method: execute_kw over JSON-RPC, POST
// /json/2/<model>/<method> over JSON-2. ids are the records of a record
// method (nil for model methods); kwargs its named arguments. A uid from
// config that Odoo refuses is renewed once (authenticate) before the
// refusal is believed.
func (s *session) call(ctx context.Context, model, method string, ids []int, kwargs map[string]any, out any) error {
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	if s.proto == protoJSON2 {
		return s.annotate(s.json2(ctx, model, method, ids, kwargs, out), model)
	}
	err := s.executeKw(ctx, model, method, ids, kwargs, out)
	if sdk.CodeOf(err) == sdk.CodeAuth && s.uidFromConfig && isAccessDenied(err) {
		old := s.uid
		if aerr := s.authenticate(ctx); aerr != nil {
			return aerr
		}
		s.uidFromConfig = false
		if s.uid == old {
			return s.annotate(err, model)
		}
		sdk.UpdateCredential(ctx, sdk.CredentialUpdate{Config: map[string]string{configUID: strconv.Itoa(s.uid)}})
		err = s.executeKw(ctx, model, method, ids, kwargs, out)
	}
	return s.annotate(err, model)
}

func (s *session) executeKw(ctx context.Context, model, method string, ids []int, kwargs map[string]any, out any) error {
	args := []any{}
	if ids != nil {
		args = append(args, ids)
	}
	return s.d.jsonrpc(ctx, s.conn, rpcCall{service: "object", method: "execute_kw",
		args: []any{s.db, s.uid, s.key, model, method, args, kwargs}}, out)
}
