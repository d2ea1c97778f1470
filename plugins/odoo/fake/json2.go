package fake

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
)

// serveJSONRPC answers POST /json/2/<model>/<method> (Odoo 19+): the API
// key as a bearer token, the database in X-Odoo-Database (needed when the
// server has several, as this one does), named arguments in a JSON object
// body ("ids" for record methods, "context"), the raw return value on
// success and {name, message, arguments, context, debug} with a status
// on failure.
func (s *Server) serveJSON2(w http.ResponseWriter, r *http.Request, body []byte) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/json/2/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		notFound(w)
		return
	}
	model, method := parts[0], parts[1]
	if r.Method != http.MethodPost {
		s.reportf("%s %s: JSON-2 takes POST", r.Method, r.URL.Path)
		w.Header().Set("Allow", "POST")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	dbName := r.Header.Get("X-Odoo-Database")
	if dbName == "" {
		s.reportf("POST %s without X-Odoo-Database, which a server with several databases needs", r.URL.Path)
		notFound(w)
		return
	}
	s.mu.Lock()
	db, ok := s.dbs[dbName]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || key == "" {
		s.reportf("POST %s without Authorization: bearer <api key>", r.URL.Path)
	}
	s.mu.Lock()
	u := db.userByKey(strings.TrimSpace(key))
	s.mu.Unlock()
	if u == nil || !strings.EqualFold(scheme, "bearer") {
		writeJSON(w, http.StatusUnauthorized, newErr(excUnauthorized, http.StatusUnauthorized, "Invalid apikey").json2())
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		s.reportf("POST %s with Content-Type %q; JSON-2 takes application/json", r.URL.Path, r.Header.Get("Content-Type"))
		writeJSON(w, http.StatusUnsupportedMediaType, newErr("werkzeug.exceptions.UnsupportedMediaType", http.StatusUnsupportedMediaType,
			"Unsupported Media Type: the body must be application/json").json2())
		return
	}
	args := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			s.reportf("POST %s with a body that is not a JSON object of named arguments: %v", r.URL.Path, err)
			writeJSON(w, http.StatusBadRequest, newErr(excBadRequest, http.StatusBadRequest, "the body must be a JSON object of named arguments").json2())
			return
		}
	}
	var positional []any
	if ids, ok := args["ids"]; ok {
		delete(args, "ids")
		if sig, known := signatures[method]; known && sig.records {
			positional = []any{ids}
		} else if _, err := idList(ids); err != nil {
			s.reportf("POST %s: ids must be a list of integers", r.URL.Path)
		}
	}
	s.mu.Lock()
	result, e := s.json2Call(db, u, model, method, positional, args)
	s.mu.Unlock()
	if e != nil {
		if e.shape {
			s.reportf("%s.%s: %s", model, method, e.message)
		}
		writeJSON(w, e.status, e.json2())
		return
	}
	writeJSON(w, http.StatusOK, result)
}

// json2Call binds and runs one JSON-2 call. JSON-2 answers a model the
// database lacks with 404 NotFound. The caller holds s.mu.
func (s *Server) json2Call(db *database, u *user, model, method string, positional []any, args map[string]any) (any, *odooError) {
	if _, ok := db.models[model]; !ok {
		return nil, newErr(excNotFound, http.StatusNotFound, "the model '%s' does not exist", model)
	}
	c, e := bind(model, method, positional, args)
	if e != nil {
		return nil, e
	}
	return db.execute(u, c)
}
