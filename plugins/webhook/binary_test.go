package main_test

// The built crm-driver-webhook binary, launched the way the host does
// (go-plugin, AutoMTLS, verified checksum), against the receiver fake.

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"crmhost.dev/plugins/webhook/fake"
	"crmhost.dev/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

const binaryName = "crm-driver-webhook"

var (
	pluginBin string
	pluginSum []byte
)

// TestMain finds the built driver in $CRMHOST_PLUGIN_DIR (make test sets
// it) or builds it into a temporary directory.
func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, binaryName+":", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if dir := os.Getenv("CRMHOST_PLUGIN_DIR"); dir != "" {
		pluginBin = filepath.Join(dir, binaryName)
		if !filepath.IsAbs(dir) {
			pluginBin = filepath.Join("..", "..", dir, binaryName) // from plugins/webhook to the workspace root
		}
	} else {
		tmp, err := os.MkdirTemp("", binaryName)
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(tmp)
		pluginBin = filepath.Join(tmp, binaryName)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", pluginBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("CRMHOST_PLUGIN_DIR is unset and go build failed: %w", err)
		}
	}
	sum, err := sdk.FileSHA256(pluginBin)
	if err != nil {
		return 0, fmt.Errorf("%w (run make plugins)", err)
	}
	if pluginSum, err = hex.DecodeString(sum); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

func launch(t *testing.T, sum []byte) (*sdk.Client, error) {
	t.Helper()
	pc := plugin.NewClient(sdk.NewClientConfig(exec.Command(pluginBin), sdk.ClientOptions{SHA256: sum, Logger: hclog.NewNullLogger()}))
	t.Cleanup(pc.Kill)
	return sdk.Dispense(pc)
}

// TestBinary: every verb through the real binary and the plugin boundary,
// the sdk refusing an unsupported verb in the endpoint's words, and a
// wrong checksum refused before anything runs.
func TestBinary(t *testing.T) {
	f := fake.New(t, fake.Options{})
	cl, err := launch(t, pluginSum)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(sdk.WithEgressAllow(context.Background(),
		[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}), 30*time.Second)
	defer cancel()
	conn := f.Connection()

	desc, err := cl.Describe(ctx)
	if err != nil || desc.Slug != "webhook" || !desc.Capabilities.ListObjects || len(desc.Objects) != 0 {
		t.Fatalf("Describe = %+v, %v", desc, err)
	}
	if r, err := cl.TestConnection(ctx, conn); err != nil || !r.OK || r.AccountID != fake.AccountA {
		t.Fatalf("TestConnection = %+v, %v", r, err)
	}
	objs, err := cl.ListObjects(ctx, conn)
	if err != nil || len(objs) != 3 {
		t.Fatalf("ListObjects = %+v, %v", objs, err)
	}
	c, err := cl.CreateRecord(ctx, conn, sdk.CreateInput{Object: "customers", IdempotencyKey: "bin-1",
		Fields: map[string]any{"first_name": "Ada", "email": "ada@example.com", "phone": "+1 415 555 0100"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cl.LookupCustomer(ctx, conn, sdk.LookupQuery{Phone: "(415) 555-0100", Objects: []string{"customers", "leads"}})
	if err != nil || r.Customer == nil || r.Customer.ExternalID != c.ExternalID || r.Customer.Fields["first_name"] != "Ada" {
		t.Fatalf("LookupCustomer = %+v, %v", r, err)
	}
	if _, err := cl.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "customers", ExternalID: c.ExternalID, Fields: map[string]any{"company": "X"}}); err != nil {
		t.Fatal(err)
	}
	rs, err := cl.SearchRecords(ctx, conn, sdk.SearchQuery{Object: "customers", Query: "ada@", Limit: 5})
	if err != nil || len(rs) != 1 {
		t.Fatalf("SearchRecords = %+v, %v", rs, err)
	}
	lr, err := cl.ListRecent(ctx, conn, sdk.ListQuery{Object: "customers", Limit: 5})
	if err != nil || len(lr.Records) != 1 {
		t.Fatalf("ListRecent = %+v, %v", lr, err)
	}
	before := len(f.Requests())
	_, err = cl.UpdateRecord(ctx, conn, sdk.UpdateInput{Object: "notes", ExternalID: "1", Fields: map[string]any{"body": "x"}})
	if e := sdk.AsError(err); e == nil || e.Code != sdk.CodeUnsupported || e.Message != "notes cannot be changed once written" {
		t.Errorf("update of a note = %v, want unsupported in the endpoint's words", err)
	}
	if n := len(f.Requests()) - before; n != 0 {
		t.Errorf("%d requests reached the endpoint for an unsupported verb", n)
	}
	if d, err := cl.DeleteRecord(ctx, conn, sdk.RecordRef{Object: "customers", ExternalID: c.ExternalID}); err != nil || d.HardDeleted {
		t.Errorf("DeleteRecord = %+v, %v; want archived", d, err)
	}
	if d, err := cl.EraseRecord(ctx, conn, sdk.RecordRef{Object: "customers", ExternalID: c.ExternalID}); err != nil || !d.HardDeleted {
		t.Errorf("EraseRecord = %+v, %v; want erased", d, err)
	}

	wrong := append([]byte(nil), pluginSum...)
	wrong[0] ^= 0xff
	if _, err := launch(t, wrong); err == nil {
		t.Error("a binary with another checksum was launched")
	}
}
