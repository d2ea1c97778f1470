package console

import (
	"net/http"
	"sort"
	"strings"

	"crmhost.dev/host"
	"crmhost.dev/host/broker"
	"crmhost.dev/host/drivers"
)

func (c *Console) driverRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /drivers", c.driversPage)
	mux.HandleFunc("POST /drivers/{slug}/app-credentials", c.saveAppCredentials)
}

type driverRow struct {
	Entry    host.DriverEntry
	Name     string
	Status   drivers.DriverStatus
	Restarts int
	Errors   map[string]int // recent failed calls by code
	Last     []drivers.CallError
	App      *broker.AppCredentialStatus
	AppErr   *problem
}

type driversView struct {
	Drivers []driverRow
	Problem *problem
	Slug    string // the driver the problem or the saved notice is about
	Saved   bool
}

func (c *Console) driversView(r *http.Request) (driversView, error) {
	ds, err := c.o.Store.ListDrivers(r.Context())
	if err != nil {
		return driversView{}, err
	}
	status := c.o.Drivers.Status()
	var v driversView
	for _, d := range ds {
		row := driverRow{Entry: d, Name: d.Slug, Status: status[d.Slug], Errors: map[string]int{}}
		if row.Status.State == "" {
			row.Status.State = drivers.StateIdle
		}
		if row.Status.Starts > 1 {
			row.Restarts = row.Status.Starts - 1
		}
		for _, e := range c.o.Drivers.RecentErrors(d.Slug) {
			row.Errors[e.Code]++
		}
		row.Last = c.o.Drivers.RecentErrors(d.Slug)
		if len(row.Last) > 5 {
			row.Last = row.Last[:5]
		}
		if app, err := c.o.Broker.AppCredentials(r.Context(), d.Slug); err != nil {
			row.AppErr = problemOf(r, err)
		} else {
			row.App = &app
			if desc, err := c.o.Drivers.Describe(r.Context(), d.Slug); err == nil {
				row.Name = desc.DisplayName
			}
		}
		v.Drivers = append(v.Drivers, row)
	}
	sort.Slice(v.Drivers, func(i, j int) bool { return v.Drivers[i].Entry.Slug < v.Drivers[j].Entry.Slug })
	return v, nil
}

// driversPage lists the catalog with each driver's process health on this
// replica, restarts, recent errors by code and app credentials.
func (c *Console) driversPage(w http.ResponseWriter, r *http.Request) {
	v, err := c.driversView(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Slug, v.Saved = r.URL.Query().Get("saved"), r.URL.Query().Get("saved") != ""
	c.render(w, r, "drivers", v)
}

// saveAppCredentials replaces a driver's app credentials (sealed and
// audited by the broker). A secret left blank keeps its stored value.
func (c *Console) saveAppCredentials(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	cur, err := c.o.Broker.AppCredentials(r.Context(), slug)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	values := map[string]string{}
	for _, f := range cur.Fields {
		if v := strings.TrimSpace(r.PostFormValue(f.Name)); v != "" {
			values[f.Name] = v
		}
	}
	var keepErr error
	if len(values) < len(cur.Set) {
		// Blank secrets keep their stored values: the broker replaces the
		// whole set, so an operator must re-enter every value to change one.
		for _, name := range cur.Set {
			if _, ok := values[name]; !ok {
				keepErr = &host.Error{Code: host.CodeInvalid, Field: "values." + name,
					Message: "enter every value to change a driver's app credentials (the stored ones are never shown)"}
			}
		}
	}
	if keepErr == nil {
		_, keepErr = c.o.Broker.SetAppCredentials(r.Context(), actor(r), slug, values)
	}
	if keepErr != nil {
		v, err := c.driversView(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v.Problem, v.Slug = problemOf(r, keepErr), slug
		w.WriteHeader(http.StatusUnprocessableEntity)
		c.render(w, r, "drivers", v)
		return
	}
	c.redirect(w, r, c.o.Prefix+"/drivers?saved="+slug)
}
