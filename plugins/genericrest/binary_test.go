package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"crmhost.dev/plugins/genericrest/fake"
	"crmhost.dev/sdk"
)

// TestBinary launches the built crm-driver-genericrest the way the host
// does (go-plugin, AutoMTLS, checksum verified) and drives the Sample CRM
// through it with the checked-in definition.
func TestBinary(t *testing.T) {
	p, err := launch(pluginSum)
	if err != nil {
		t.Fatalf("launch %s: %v", pluginBin, err)
	}
	t.Cleanup(p.pc.Kill)
	api := fake.New(t, fake.Options{})
	conn := api.Connection()
	cl := p.cl

	d, err := cl.Describe(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Capabilities{Delete: true, Erase: true, DescribeObject: true, Refresh: true, ListObjects: true}
	if d.Capabilities != want || d.Slug != "genericrest" || len(d.Objects) != 0 {
		t.Errorf("Describe: slug %q capabilities %+v objects %d", d.Slug, d.Capabilities, len(d.Objects))
	}
	if r, err := cl.TestConnection(ctxFor(t), conn); err != nil || !r.OK || r.AccountID != "acct_A" {
		t.Fatalf("TestConnection = %+v, %v", r, err)
	}
	objs, err := cl.ListObjects(ctxFor(t), conn)
	if err != nil || len(objs) != 3 {
		t.Fatalf("ListObjects = %v, %v", objs, err)
	}
	ctx, update := sdk.CaptureCredentialUpdate(ctxFor(t))
	c, err := cl.CreateRecord(ctx, conn, sdk.CreateInput{Object: "contacts", IdempotencyKey: "bin-1",
		Fields: map[string]any{"first_name": "Ada", "email": "ada@example.com", "phone": "+1 415 555 0123"}})
	if err != nil {
		t.Fatal(err)
	}
	u := update()
	if u == nil || u.Secret["access_token"] == "" {
		t.Fatalf("no token came back from the process: %+v", u)
	}
	conn = u.Apply(conn)
	r, err := cl.LookupCustomer(ctxFor(t), conn, sdk.LookupQuery{Phone: "(415) 555-0123", Objects: []string{"leads", "contacts"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != c.ExternalID || r.Customer.Object != "contacts" {
		t.Fatalf("lookup by phone over leads then contacts = %+v, %v", r, err)
	}
	if _, err := cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "contacts", ExternalID: c.ExternalID, Fields: map[string]any{"company": "Engines"}}); err != nil {
		t.Fatal(err)
	}
	l, err := cl.ListRecent(ctxFor(t), conn, sdk.ListQuery{Object: "contacts"})
	if err != nil || len(l.Records) != 1 || l.Records[0].Fields["company"] != "Engines" {
		t.Fatalf("ListRecent = %+v, %v", l, err)
	}
	if res, err := cl.DeleteRecord(ctxFor(t), conn, sdk.RecordRef{Object: "contacts", ExternalID: c.ExternalID}); err != nil || res.HardDeleted {
		t.Fatalf("DeleteRecord = %+v, %v; want archived", res, err)
	}
	_, err = cl.UpdateRecord(ctxFor(t), conn, sdk.UpdateInput{Object: "notes", ExternalID: "n_1", Fields: map[string]any{"body": "x"}})
	if sdk.CodeOf(err) != sdk.CodeUnsupported {
		t.Errorf("update of a note: %v, want unsupported", err)
	}

	t.Run("wrong checksum", func(t *testing.T) {
		bad := bytes.Repeat([]byte{1}, 32)
		if p, err := launch(bad); err == nil {
			p.pc.Kill()
			t.Fatal("a binary with the wrong checksum was launched")
		}
	})
}

// TestCommands runs the binary's operator commands.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, "samplecrm.yaml")
	doc := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(def, []byte(fake.Definition), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, fake.OpenAPI, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(pluginBin, args...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	if out, _, code := run("validate", def); code != 0 || !strings.Contains(out, "contacts (customer): lookup_customer") {
		t.Errorf("validate: %d %s", code, out)
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(strings.Replace(fake.Definition, "path: /v1/me", "path: v1/me", 1)), 0o600)
	if _, errOut, code := run("validate", broken); code != 1 || !strings.Contains(errOut, "definition.test.path") {
		t.Errorf("validate of a broken definition: %d %s", code, errOut)
	}
	gen, _, code := run("generate", doc)
	if code != 0 || !strings.Contains(gen, "version: 1") {
		t.Errorf("generate: %d %s", code, gen)
	}
	api := fake.New(t, fake.Options{})
	if _, errOut, code := run("generate", api.URL+"/openapi.json"); code != 1 || !strings.Contains(errOut, "loopback") {
		t.Errorf("generate from a loopback URL: %d %s, want the egress guard's refusal", code, errOut)
	}
	out, _, code := run("dryrun", "-definition", def, "-object", "contacts", "-verb", "update", "-input", `{"id":"c_7","fields":{"company":"X"}}`)
	if code != 0 || !strings.Contains(out, `"url": "https://api.samplecrm.example/v1/contacts/c_7"`) || !strings.Contains(out, `"company": "X"`) {
		t.Errorf("dryrun: %d %s", code, out)
	}
	if _, errOut, code := run("dryrun", "-definition", def); code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("dryrun without a verb: %d %s", code, errOut)
	}
	if out, _, code := run("schema"); code != 0 || !strings.Contains(out, `"$schema"`) {
		t.Errorf("schema: %d", code)
	}
	if _, errOut, code := run(); code != 1 || !strings.Contains(errOut, "plugin") {
		t.Errorf("run by hand: %d %s", code, errOut)
	}
}
