package sdk

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzFieldsRoundTrip feeds arbitrary JSON objects through the wire
// converters: whatever converts must come back equal, and nothing panics.
func FuzzFieldsRoundTrip(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"n":1.5,"b":true,"z":null}`, `{"l":[1,"x",{"k":[]}]}`, `{"":""}`, `{"big":1e308}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in map[string]any
		if json.Unmarshal(raw, &in) != nil || in == nil {
			return
		}
		pb, err := toPBFields(in)
		if err != nil {
			return
		}
		out := fromPBFields(pb)
		if diff := cmp.Diff(in, out); diff != "" {
			t.Fatalf("round trip changed fields (-in +out):\n%s", diff)
		}
	})
}

// FuzzErrorStatus checks an *Error survives the status encoding.
func FuzzErrorStatus(f *testing.F) {
	f.Add("rate_limited", "slow", "field", int64(1500))
	f.Add("invalid", "", "", int64(0))
	f.Fuzz(func(t *testing.T, code, msg, field string, ms int64) {
		in := &Error{Code: Code(code), Message: msg, Field: field}
		if ms >= 0 && ms < 1<<40 {
			in.RetryAfter = msDuration(ms)
		}
		out := fromStatus(t.Context(), toStatus(in))
		e := AsError(out)
		if !in.Code.Valid() {
			if e.Code != CodeInternal {
				t.Fatalf("unknown code %q decoded as %s", code, e.Code)
			}
			return
		}
		if e.Code != in.Code || e.Field != in.Field || e.RetryAfter != in.RetryAfter {
			t.Fatalf("got %+v want %+v", e, in)
		}
	})
}
