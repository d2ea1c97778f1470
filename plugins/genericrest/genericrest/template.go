package genericrest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"crmhost.dev/sdk"
)

// Templates are CEL expressions (cel.dev/cel-go): typed, side-effect free,
// with no access to files, the environment, the clock or the network, and
// evaluated under a cost limit and a memory limit, so a template that
// tries to loop or grow without bound is stopped. Each template compiles
// against the variables of the place it is used in (a create sees fields
// and idempotency_key, a list sees since and limit...), so a reference to
// a variable that place does not have fails when the definition is
// validated.

// Bounds on templates.
const (
	// CostLimit bounds one evaluation (CEL's cost units: roughly one per
	// operation, per element visited and per ten bytes of string work).
	CostLimit = 100_000
	// memoryLimit bounds the aggregate size of the values one evaluation
	// builds (CEL's element counts).
	memoryLimit = 1 << 20
	// maxRendered bounds a rendered value's JSON size (a body).
	maxRendered = 1 << 20
)

// scope is a place templates are used in; it decides their variables.
type scope int

const (
	scopeGlobal  scope = iota // definition headers, test request
	scopeLookup               // lookup requests
	scopeSearch               // search request
	scopeCreate               // create request
	scopeFind                 // the idempotency find request
	scopeUpdate               // update request
	scopeList                 // list request
	scopeDeleted              // deleted-records feed
	scopeDelete               // delete and erase
	scopeRecord               // record url
	scopeError                // error rule conditions
	numScopes
)

// Variables by name and type, and the scopes that see them.
var (
	page     = []string{"page_size", "offset", "page", "cursor"}
	sinceVar = []string{"since", "since_unix", "since_unix_ms"}
	varTypes = map[string]*cel.Type{
		"config": cel.MapType(cel.StringType, cel.StringType),
		"fields": cel.MapType(cel.StringType, cel.DynType), "idempotency_key": cel.StringType, "nonce": cel.StringType,
		"id": cel.StringType, "phone": cel.StringType, "phone_national": cel.StringType, "email": cel.StringType,
		"query": cel.StringType, "limit": cel.IntType, "read_fields": cel.ListType(cel.StringType),
		"since": cel.StringType, "since_unix": cel.IntType, "since_unix_ms": cel.IntType,
		"page_size": cel.IntType, "offset": cel.IntType, "page": cel.IntType, "cursor": cel.StringType,
		"record": cel.DynType, "status": cel.IntType, "body": cel.DynType, "headers": cel.MapType(cel.StringType, cel.StringType),
	}
	scopeVars = [numScopes][]string{
		scopeGlobal:  {"config"},
		scopeLookup:  join([]string{"config", "phone", "phone_national", "email", "id", "read_fields"}, page),
		scopeSearch:  join([]string{"config", "query", "limit", "read_fields"}, page),
		scopeCreate:  {"config", "fields", "idempotency_key", "nonce"},
		scopeFind:    join([]string{"config", "fields", "idempotency_key", "read_fields"}, page),
		scopeUpdate:  {"config", "id", "fields"},
		scopeList:    join(join([]string{"config", "limit", "read_fields"}, sinceVar), page),
		scopeDeleted: join(join([]string{"config", "limit"}, sinceVar), page),
		scopeDelete:  {"config", "id"},
		scopeRecord:  {"config", "id", "record"},
		scopeError:   {"status", "body", "headers"},
	}
)

func join(a, b []string) []string { return append(append([]string(nil), a...), b...) }

var (
	envOnce sync.Once
	envs    [numScopes]*cel.Env
	envErr  error
)

// env returns the CEL environment of a scope, built once per process.
func env(sc scope) (*cel.Env, error) {
	envOnce.Do(func() {
		for s := range numScopes {
			opts := []cel.EnvOption{
				ext.Strings(), ext.Bindings(), ext.Encoders(),
				cel.CrossTypeNumericComparisons(true),
				cel.ParserExpressionSizeLimit(4096),
				cel.ParserRecursionLimit(100),
			}
			for _, v := range scopeVars[s] {
				opts = append(opts, cel.Variable(v, varTypes[v]))
			}
			if envs[s], envErr = cel.NewEnv(opts...); envErr != nil {
				return
			}
		}
	})
	if envErr != nil {
		return nil, fmt.Errorf("genericrest: CEL environment: %w", envErr)
	}
	return envs[sc], nil
}

// expr is one compiled template. Field is where it is in the definition
// ("definition.objects.contacts.create.body"), which its errors name.
type expr struct {
	src   string
	field string
	prg   cel.Program
	refs  map[string]bool
	out   *cel.Type
}

// compileExpr compiles src in scope sc. Errors: CodeInvalid naming field,
// with CEL's message (which points at the column).
func compileExpr(sc scope, field, src string) (*expr, error) {
	e, err := env(sc)
	if err != nil {
		return nil, err
	}
	ast, iss := e.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, sdk.Invalid(field, "is not a valid template (CEL; it sees %s): %s",
			strings.Join(scopeVars[sc], ", "), oneLine(iss.Err().Error()))
	}
	prg, err := e.Program(ast,
		cel.CostLimit(CostLimit),
		cel.MemoryLimit(memoryLimit),
		cel.InterruptCheckFrequency(100),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, sdk.Invalid(field, "cannot be planned: %s", oneLine(err.Error()))
	}
	refs := map[string]bool{}
	for _, r := range ast.NativeRep().ReferenceMap() {
		if r.Name != "" {
			refs[r.Name] = true
		}
	}
	return &expr{src: src, field: field, prg: prg, refs: refs, out: ast.OutputType()}, nil
}

// oneLine folds CEL's multi-line messages (which draw a caret under the
// column) onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// eval evaluates e with vars (every variable of its scope must be set)
// and returns its value as JSON-ready Go values: string, int64, uint64,
// float64, bool, nil, []any, map[string]any; timestamps become RFC 3339
// strings. Errors: CodeInvalid naming e.field when the evaluation fails
// (a missing key, a type error), is stopped by its cost or memory limit,
// or yields a value JSON cannot carry; the context's error when the call
// ends meanwhile.
func (e *expr) eval(ctx context.Context, vars map[string]any) (any, error) {
	out, _, err := e.prg.ContextEval(ctx, vars)
	if err != nil {
		var ec interpreter.EvalCancelledError
		switch {
		case ctx.Err() != nil:
			return nil, &sdk.Error{Code: sdk.CodeUnavailable, Message: "the call ended while a template was evaluated", Cause: ctx.Err()}
		case errors.As(err, &ec) && ec.Cause == interpreter.CostLimitExceeded,
			strings.Contains(err.Error(), "cost limit exceeded"):
			return nil, sdk.Invalid(e.field, "was stopped by its cost limit (%d): a template may not loop or grow without bound", CostLimit)
		case errors.As(err, &ec) && ec.Cause == interpreter.MemoryLimitExceeded,
			strings.Contains(err.Error(), "memory limit exceeded"):
			return nil, sdk.Invalid(e.field, "was stopped by its memory limit: a template may not grow without bound")
		}
		return nil, sdk.Invalid(e.field, "failed: %s", oneLine(err.Error()))
	}
	v, err := native(out, 0)
	if err != nil {
		return nil, sdk.Invalid(e.field, "renders %s", err)
	}
	return v, nil
}

// maxDepth bounds the nesting of a rendered value.
const maxDepth = 32

// native converts a CEL value into a JSON-ready Go value.
func native(v ref.Val, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("a value nested more than 32 levels deep")
	}
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.String:
		return string(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("a number JSON cannot carry (NaN or infinity), which is not valid JSON")
		}
		return f, nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Bytes:
		return nil, errors.New("bytes, which are not valid JSON (encode them with base64.encode)")
	case types.Duration:
		return nil, errors.New("a duration, which is not valid JSON (use its string())")
	case *types.Err:
		return nil, errors.New("an error: " + x.String())
	}
	if l, ok := v.(traits.Lister); ok {
		n, ok := l.Size().(types.Int)
		if !ok {
			return nil, errors.New("a list of unknown size")
		}
		out := make([]any, 0, int(n))
		for i := types.Int(0); i < n; i++ {
			e, err := native(l.Get(i), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	if m, ok := v.(traits.Mapper); ok {
		out := map[string]any{}
		it := m.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("a map with a %s key, which is not valid JSON (object keys are strings)", k.Type().TypeName())
			}
			e, err := native(m.Get(k), depth+1)
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s, which is not valid JSON", v.Type().TypeName())
}

// celValue prepares a decoded JSON value (json.Number, nested maps and
// lists) for CEL: numbers become int64 when whole and in range, else
// float64.
func celValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = celValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = celValue(e)
		}
		return out
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// scalarString renders a query, header or path value. Null is ok=false
// (left out). Errors: CodeInvalid naming field for a list (where not
// allowed) or a map.
func scalarString(field string, v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case uint64:
		return strconv.FormatUint(x, 10), true, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true, nil
	}
	return "", false, sdk.Invalid(field, "renders a %s; it must render a string, number, boolean or null", kindOf(v))
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

// sortedKeys returns m's keys in order, so rendering is deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
