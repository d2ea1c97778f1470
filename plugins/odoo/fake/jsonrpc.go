package fake

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
)

// rpcRequest is JSON-RPC 2.0's request envelope as Odoo reads it.
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      any             `json:"id"`
}

type rpcParams struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Args    []any  `json:"args"`
}

// serveJSONRPC answers POST /jsonrpc: the common service (version,
// authenticate, login) and the object service (execute_kw, execute).
// Every answer is HTTP 200; errors are the error member.
func (s *Server) serveJSONRPC(w http.ResponseWriter, r *http.Request, body []byte) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		s.reportf("POST /jsonrpc with Content-Type %q: Odoo's json routes need application/json", r.Header.Get("Content-Type"))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<!doctype html>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>Request inferred type is compatible with ['http'] but '/jsonrpc' is type='json'</p>\n"))
		return
	}
	var env rpcRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		s.reportf("POST /jsonrpc with a body that is not a JSON-RPC request: %v", err)
		s.rpcAnswer(w, nil, nil, newErr(excBadRequest, http.StatusBadRequest, "Invalid JSON data: %v", err))
		return
	}
	if env.JSONRPC != "2.0" || env.Method != "call" {
		s.reportf(`JSON-RPC envelope has jsonrpc %q and method %q; Odoo's integrations send "2.0" and "call"`, env.JSONRPC, env.Method)
	}
	var p rpcParams
	pd := json.NewDecoder(bytes.NewReader(env.Params))
	pd.UseNumber()
	if err := pd.Decode(&p); err != nil || p.Service == "" || p.Method == "" {
		s.reportf("JSON-RPC params must be an object with service, method and args")
		s.rpcAnswer(w, env.ID, nil, typeError("dispatch_rpc() missing required arguments: 'service', 'method' and 'args'"))
		return
	}
	s.mu.Lock()
	result, e := s.dispatch(p)
	s.mu.Unlock()
	if e != nil && e.shape {
		s.reportf("%s.%s: %s", p.Service, p.Method, e.message)
	}
	s.rpcAnswer(w, env.ID, result, e)
}

func (s *Server) rpcAnswer(w http.ResponseWriter, id, result any, e *odooError) {
	out := map[string]any{"jsonrpc": "2.0", "id": id}
	if e != nil {
		out["error"] = e.rpc()
	} else {
		out["result"] = result
	}
	writeJSON(w, http.StatusOK, out)
}

// shapeErr is a TypeError for a call of the wrong shape.
func shapeErr(format string, args ...any) *odooError {
	e := typeError(format, args...)
	e.shape = true
	return e
}

// dispatch runs one JSON-RPC call. The caller holds s.mu.
func (s *Server) dispatch(p rpcParams) (any, *odooError) {
	switch p.Service + "." + p.Method {
	case "common.version":
		return map[string]any{"server_version": s.v.serie, "server_version_info": s.v.info(), "server_serie": s.v.serie, "protocol_version": 1}, nil
	case "common.authenticate", "common.login":
		want := 4
		if p.Method == "login" {
			want = 3
		}
		if len(p.Args) != want {
			return nil, shapeErr("exp_%s() takes %d positional arguments but %d were given", p.Method, want, len(p.Args))
		}
		db, login, key, ok := strings3(p.Args)
		if !ok {
			return nil, shapeErr("%s: db, login and password must be strings", p.Method)
		}
		if p.Method == "authenticate" {
			if _, isMap := p.Args[3].(map[string]any); !isMap {
				return nil, shapeErr("authenticate: user_agent_env must be a dictionary ({} will do)")
			}
		}
		d, e := s.database(db)
		if e != nil {
			return nil, e
		}
		u := d.user(login)
		if u == nil || u.key == "" || u.key != key {
			return false, nil
		}
		s.issued++
		return u.uid, nil
	case "object.execute_kw", "object.execute":
		return s.executeKw(p)
	}
	return nil, shapeErr("the %s service has no method %s that integrations may call", p.Service, p.Method)
}

// executeKw serves object.execute_kw(db, uid, password, model, method,
// args, kwargs) and object.execute(db, uid, password, model, method,
// *args).
func (s *Server) executeKw(p rpcParams) (any, *odooError) {
	if len(p.Args) < 5 || (p.Method == "execute_kw" && len(p.Args) > 7) {
		return nil, shapeErr("%s() takes from 5 to 7 positional arguments but %d were given", p.Method, len(p.Args))
	}
	dbName, ok1 := p.Args[0].(string)
	uid, ok2 := asInt(p.Args[1])
	key, ok3 := p.Args[2].(string)
	model, ok4 := p.Args[3].(string)
	method, ok5 := p.Args[4].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil, shapeErr("%s(db, uid, password, model, method, ...): db, password, model and method are strings, uid an integer", p.Method)
	}
	positional, kwargs := p.Args[5:], map[string]any{}
	if p.Method == "execute_kw" {
		positional = nil
		if len(p.Args) > 5 {
			l, ok := p.Args[5].([]any)
			if !ok {
				return nil, shapeErr("execute_kw: args must be a list of positional arguments")
			}
			positional = l
		}
		if len(p.Args) > 6 {
			m, ok := p.Args[6].(map[string]any)
			if !ok {
				return nil, shapeErr("execute_kw: kwargs must be a dictionary")
			}
			kwargs = m
		}
	}
	db, e := s.database(dbName)
	if e != nil {
		return nil, e
	}
	u := db.userByUID(uid)
	if u == nil || u.key == "" || u.key != key {
		return nil, accessDenied()
	}
	c, e := bind(model, method, positional, kwargs)
	if e != nil {
		return nil, e
	}
	return db.execute(u, c)
}

// database returns the named database, or the OperationalError Odoo
// raises connecting to one PostgreSQL does not have.
func (s *Server) database(name string) (*database, *odooError) {
	if d, ok := s.dbs[name]; ok {
		return d, nil
	}
	return nil, newErr(excOperational, http.StatusNotFound,
		"connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  database \"%s\" does not exist\n", name)
}

func strings3(args []any) (a, b, c string, ok bool) {
	a, ok1 := args[0].(string)
	b, ok2 := args[1].(string)
	c, ok3 := args[2].(string)
	return a, b, c, ok1 && ok2 && ok3
}
