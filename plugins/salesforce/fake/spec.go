package fake

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Salesforce publishes no static OpenAPI description (it generates one per
// org); the official machine-readable description is the Postman
// collection forcedotcom/postman-salesforce-apis, whose last in-repository
// sources (January 2021) are in ../shared/specs/salesforce. The fake
// validates every request against it: the method and path must be an
// item's, query parameters and form fields must be ones the item
// documents, the token grants must carry the item's grant_type, and JSON
// writes must send a JSON object.

// SpecsDirEnv names the environment variable pointing at the specs: a
// folder holding salesforce/ (like ../shared/specs) or the salesforce
// folder itself. Without it the fake looks for shared/specs/salesforce,
// then .specs/salesforce, in the working directory and its parents.
const SpecsDirEnv = "CRMHOST_SPECS_DIR"

// CollectionFile is the collection's archive in the salesforce folder.
const CollectionFile = "forcedotcom-postman-salesforce-apis-src-2021-01.tar.gz"

// ErrNoSpecs is wrapped when no specs folder holds the collection.
var ErrNoSpecs = errors.New("salesforce specs not found")

// item is one request of the collection (a file under
// src/collections/salesforce_apis/<folder>/).
type item struct {
	file     string
	Name     string `json:"name"`
	URL      string `json:"url"`
	Method   string `json:"method"`
	DataMode string `json:"dataMode"`
	Query    []struct {
		Key string `json:"key"`
	} `json:"queryParams"`
	Data json.RawMessage `json:"data"`

	methods  []string
	segments []string
	query    []string
	form     map[string]string // documented form fields -> fixed value ("" when free)
}

// relaxation documents where the 2021 collection is narrower than the
// API Salesforce documents, and widens one item in memory.
type relaxation struct {
	file    string
	why     string
	methods []string
	query   []string
	form    []string
	path    string // a further path the item serves
	json    bool   // the added methods send a JSON object body
}

var relaxations = []relaxation{
	{file: "sobject_rows_by_external_id.json", methods: []string{http.MethodPatch}, json: true,
		why: "the item's description lists HEAD, GET, PATCH, DELETE, POST but the item records only GET; PATCH is the documented upsert"},
	{file: "sobject_rows_by_external_id.json", query: []string{"fields", "updateOnly"},
		why: "Salesforce documents ?fields= on record reads and ?updateOnly=true on upserts; the item lists no parameters"},
	{file: "sobject_rows.json", query: []string{"fields"},
		why: "Salesforce documents ?fields= on SObject Rows reads; the item lists no parameters"},
	{file: "query.json", path: "/services/data/v{{version}}/query/<QUERY_LOCATOR>",
		why: "the item's description names nextRecordsUrl, the query locator path of the next batch, which the collection has no item for"},
	{file: "queryall.json", path: "/services/data/v{{version}}/queryAll/<QUERY_LOCATOR>",
		why: "as for query: the next batch of a queryAll"},
	{file: "web_server_flow_1.json", query: []string{"state", "code_challenge", "code_challenge_method", "login_hint", "prompt"},
		why: "state and PKCE (code_challenge) are documented parameters of the web server flow the 2021 item predates or omits"},
	{file: "web_server_flow_2.json", form: []string{"code_verifier"},
		why: "PKCE's code_verifier is a documented parameter of the code exchange the 2021 item omits"},
}

// collection is the loaded set of items.
type collection struct {
	items []*item
}

var (
	specMu    sync.Mutex
	specCache = map[string]*collection{}
)

// locateCollection finds the collection archive (see SpecsDirEnv).
func locateCollection() (string, error) {
	has := func(dir string) bool {
		fi, err := os.Stat(filepath.Join(dir, CollectionFile))
		return err == nil && fi.Mode().IsRegular()
	}
	if root := os.Getenv(SpecsDirEnv); root != "" {
		for _, dir := range []string{filepath.Join(root, "salesforce"), root} {
			if has(dir) {
				return filepath.Join(dir, CollectionFile), nil
			}
		}
		return "", fmt.Errorf("%s=%s holds no Salesforce collection (want %s in it or in its salesforce folder)", SpecsDirEnv, root, CollectionFile)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for _, under := range []string{filepath.Join("shared", "specs"), ".specs"} {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if c := filepath.Join(dir, under, "salesforce"); has(c) {
				return filepath.Join(c, CollectionFile), nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("%w: no shared/specs/salesforce/%s in %s or its parents, and %s is unset", ErrNoSpecs, CollectionFile, wd, SpecsDirEnv)
}

// loadCollection reads the archive's REST, auth and composite items once
// per process and applies the relaxations.
func loadCollection() (*collection, error) {
	file, err := locateCollection()
	if err != nil {
		return nil, err
	}
	specMu.Lock()
	defer specMu.Unlock()
	if c := specCache[file]; c != nil {
		return c, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := &collection{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		dir, base := path.Split(h.Name)
		folder := path.Base(dir)
		if !strings.Contains(dir, "collections/salesforce_apis/") || !slices.Contains([]string{"rest", "auth", "composite"}, folder) ||
			!strings.HasSuffix(base, ".json") {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return nil, err
		}
		it := &item{file: base}
		if err := json.Unmarshal(b, it); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, h.Name, err)
		}
		it.compile()
		c.items = append(c.items, it)
	}
	for _, r := range relaxations {
		i := slices.IndexFunc(c.items, func(it *item) bool { return it.file == r.file })
		if i < 0 {
			return nil, fmt.Errorf("relaxation for %s (%s) finds no such item: drop it", r.file, r.why)
		}
		it := c.items[i]
		if r.path != "" {
			cp := *it
			cp.URL, cp.query = r.path, nil
			cp.compile()
			c.items = append(c.items, &cp)
			continue
		}
		it.methods = append(it.methods, r.methods...)
		if r.json {
			it.DataMode = "raw"
		}
		it.query = append(it.query, r.query...)
		for _, k := range r.form {
			it.form[k] = ""
		}
	}
	if len(c.items) == 0 {
		return nil, fmt.Errorf("%s holds no collection items", file)
	}
	specCache[file] = c
	return c, nil
}

var hostPrefix = regexp.MustCompile(`^(\{\{_endpoint\}\}|\{\{url\}\}\{\{site\}\}|\{\{url\}\})`)

// compile derives an item's methods, path segments, query parameters and
// form fields.
func (it *item) compile() {
	it.methods = []string{strings.ToUpper(it.Method)}
	p := hostPrefix.ReplaceAllString(it.URL, "")
	p, _, _ = strings.Cut(p, "?")
	it.segments = strings.Split(strings.Trim(p, "/"), "/")
	if it.query == nil {
		for _, q := range it.Query {
			it.query = append(it.query, q.Key)
		}
	}
	it.form = map[string]string{}
	var data []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if (it.DataMode == "urlencoded" || it.DataMode == "params") && json.Unmarshal(it.Data, &data) == nil {
		for _, d := range data {
			v := ""
			if d.Key == "grant_type" {
				v = d.Value
			}
			it.form[d.Key] = v
		}
	}
}

var versionSegment = regexp.MustCompile(`^v\d+\.\d$`)

// match scores how well a path fits the item: -1 for no fit, else the
// number of literal segments matched.
func (it *item) match(segs []string) int {
	if len(segs) != len(it.segments) {
		return -1
	}
	score := 0
	for i, want := range it.segments {
		got := segs[i]
		switch {
		case want == "v{{version}}":
			if !versionSegment.MatchString(got) {
				return -1
			}
		case strings.HasPrefix(want, "<") || strings.HasPrefix(want, "{{"):
			if got == "" {
				return -1
			}
		case want == got:
			score++
		default:
			return -1
		}
	}
	return score
}

// validate checks a request against the best-fitting items. Messages name
// parameters and fields, never their values.
func (c *collection) validate(r *http.Request, body []byte) error {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	best, cands := -1, []*item(nil)
	for _, it := range c.items {
		if !slices.Contains(it.methods, r.Method) {
			continue
		}
		switch s := it.match(segs); {
		case s > best:
			best, cands = s, []*item{it}
		case s == best && s >= 0:
			cands = append(cands, it)
		}
	}
	if best < 0 {
		return fmt.Errorf("%s %s is not a request of the collection", r.Method, redactPath(r.URL.Path))
	}
	var errs []error
	for _, it := range cands {
		err := it.check(r, body)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", it.file, err))
	}
	return errors.Join(errs...)
}

func (it *item) check(r *http.Request, body []byte) error {
	for k := range r.URL.Query() {
		if !slices.Contains(it.query, k) {
			return fmt.Errorf("query parameter %q is not documented (documented: %s)", k, strings.Join(it.query, ", "))
		}
	}
	if len(it.form) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return fmt.Errorf("the body must be application/x-www-form-urlencoded, not %q", ct)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return fmt.Errorf("the form body does not parse")
		}
		for k := range form {
			if _, ok := it.form[k]; !ok {
				return fmt.Errorf("form field %q is not documented", k)
			}
		}
		if want := it.form["grant_type"]; want != "" && form.Get("grant_type") != want {
			return fmt.Errorf("grant_type is not %q", want)
		}
		return nil
	}
	if it.DataMode == "raw" && (r.Method == http.MethodPost || r.Method == http.MethodPatch) {
		var obj map[string]any
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&obj); err != nil || obj == nil {
			return fmt.Errorf("the body must be a JSON object")
		}
	}
	return nil
}
