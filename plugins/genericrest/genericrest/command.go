package genericrest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"crmhost.dev/sdk"
	"crmhost.dev/sdk/provider"
)

// Operator commands of the driver binary (crm-driver-genericrest
// <command>): none of them starts the plugin, reads the environment or
// sends anything but generate's fetch of an https OpenAPI document (through
// the provider toolkit's egress guard: public addresses only; save a
// private one to a file first).
var commands = map[string]string{
	"validate": "validate <definition.yaml|->: check a connector definition (schema, templates, paths)",
	"generate": "generate <openapi.json|yaml|-|https URL>: print a starting definition for the API",
	"dryrun":   "dryrun -definition <file> -object <name> -verb <verb> [-input <json>]: print the request a verb would send",
	"schema":   "schema: print the definition's JSON Schema",
}

// IsCommand reports whether arg names an operator command.
func IsCommand(arg string) bool {
	_, ok := commands[arg]
	return ok || arg == "help" || arg == "-h" || arg == "--help"
}

// RunCommand runs an operator command (args[0] is its name) and returns
// the process exit status: 0, 1 for a failure it explains, 2 for bad
// usage.
func RunCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var err error
	switch args[0] {
	case "validate":
		err = cmdValidate(args[1:], stdin, stdout)
	case "generate":
		err = cmdGenerate(args[1:], stdin, stdout)
	case "dryrun":
		err = cmdDryRun(args[1:], stdin, stdout, stderr)
	case "schema":
		_, err = stdout.Write(SchemaJSON)
	default:
		fmt.Fprintln(stderr, "crm-driver-genericrest is a crmhost driver plugin; the host launches it. Operator commands:")
		for _, n := range []string{"validate", "generate", "dryrun", "schema"} {
			fmt.Fprintln(stderr, "  crm-driver-genericrest", commands[n])
		}
		return 2
	}
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, "usage: crm-driver-genericrest", commands[args[0]])
		if usage.msg != "" {
			fmt.Fprintln(stderr, usage.msg)
		}
		return 2
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// readInput reads a file, or stdin for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, 16<<20))
	}
	return os.ReadFile(name)
}

func cmdValidate(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{}
	}
	raw, err := readInput(args[0], stdin)
	if err != nil {
		return err
	}
	c, err := Compile(raw)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %s, %d objects\n", c.name, len(c.names))
	for _, info := range c.infos {
		fmt.Fprintf(stdout, "  %s (%s): %s\n", info.Name, orDash(info.Canonical), strings.Join(info.Verbs, ", "))
	}
	if len(raw) > 8192 {
		fmt.Fprintf(stdout, "note: it is %d bytes; the host's connect form takes at most 8192 characters a field\n", len(raw))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdGenerate(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 1 {
		return usageError{}
	}
	src, docURL := args[0], ""
	var doc []byte
	var err error
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		docURL = src
		doc, err = fetchDocument(context.Background(), src)
	} else {
		doc, err = readInput(src, stdin)
	}
	if err != nil {
		return err
	}
	out, err := Generate(doc, docURL)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

// fetchDocument fetches an OpenAPI document through the provider toolkit
// (egress guard, size cap, no proxy from the environment).
func fetchDocument(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, sdk.Invalid("openapi", "%q is not a URL", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := provider.New(provider.Options{Name: u.Host, UserAgent: "crmhost-genericrest/" + Version})
	resp, err := c.Do(ctx, provider.Request{BaseURL: u.Scheme + "://" + u.Host, Path: u.EscapedPath(), Query: u.Query(),
		Header: map[string][]string{"Accept": {"application/json, application/yaml;q=0.9, */*;q=0.5"}}})
	if err != nil {
		return nil, err
	}
	if !resp.OK() {
		return nil, provider.Classify(u.Host, resp)
	}
	return resp.Body, nil
}

func cmdDryRun(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dryrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := fs.String("definition", "", "the connector definition file (- for stdin)")
	object := fs.String("object", "", "the object")
	verb := fs.String("verb", "", "one of "+strings.Join(DryRunVerbs, ", "))
	input := fs.String("input", "{}", `sample input as JSON: {"fields":{...},"id":"...","idempotency_key":"...","phone":"...","email":"...","query":"...","since":"2024-01-01T00:00:00Z","config":{"base_url":"..."}}`)
	if err := fs.Parse(args); err != nil {
		return usageError{}
	}
	if *def == "" || *verb == "" || (*object == "" && *verb != "test") || fs.NArg() > 0 {
		return usageError{msg: "-definition and -verb are required, and -object for every verb but test"}
	}
	raw, err := readInput(*def, stdin)
	if err != nil {
		return err
	}
	var in DryRunInput
	dec := json.NewDecoder(strings.NewReader(*input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return usageError{msg: "-input is not valid: " + err.Error()}
	}
	req, err := DryRun(context.Background(), raw, *object, *verb, in)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(req)
}
