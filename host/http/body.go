package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	nethttp "net/http"
	"strings"

	"crmhost.dev/host"
	"github.com/gin-gonic/gin"
)

// bind decodes a JSON request body into dst, strictly:
//
//   - the body must be declared JSON: a Content-Type of application/json
//     or application/*+json, else 415 (CodeUnsupportedMediaType); only an
//     empty body may come without one (and is then refused as empty);
//   - at most limit bytes (CodeTooLarge naming body);
//   - no key given twice in an object, also not in another case
//     (encoding/json would keep one silently), naming the key's path;
//   - no unknown fields, no data after the object, the offending field
//     named (CodeInvalid).
func bind(c *gin.Context, limit int64, dst any) error {
	ct := c.GetHeader("Content-Type")
	if ct != "" || c.Request.ContentLength > 0 {
		if !isJSON(ct) {
			return &host.Error{Code: host.CodeUnsupportedMediaType, Field: "Content-Type", Message: fmt.Sprintf(
				"is %q; the body must be JSON, sent as application/json", ct)}
		}
	}
	raw, err := io.ReadAll(nethttp.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		return decodeError(err, limit)
	}
	if err := noDuplicateKeys(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("body", "has data after the JSON object")
	}
	return nil
}

// isJSON reports whether a Content-Type value names JSON.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// noDuplicateKeys refuses a JSON document with a key given twice in one
// object (compared regardless of case, as encoding/json matches struct
// fields), naming the key's dotted path. A document that is not valid
// JSON passes: the decoder says what is wrong with it.
func noDuplicateKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]string // folded -> as given
		path   string
		expect bool // an object's next string token is a key
	}
	var stack []*frame
	path := func(key string) string {
		p := stack[len(stack)-1].path
		if p == "" {
			return key
		}
		return p + "." + key
	}
	pending := "" // the path of the value about to be read
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the decoder reports
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if key, ok := tok.(string); ok && top != nil && top.object && top.expect {
			folded := strings.ToLower(key)
			if first, dup := top.keys[folded]; dup {
				if first == key {
					return invalid(path(key), "is given more than once")
				}
				return invalid(path(key), fmt.Sprintf("is given twice, as %q and %q (keys are matched regardless of case)", first, key))
			}
			top.keys[folded] = key
			top.expect = false
			pending = path(key)
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]string{}, path: pending, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{path: pending})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the enclosing object expects a key next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expect = true
			pending = ""
		} else if len(stack) > 0 {
			pending = stack[len(stack)-1].path
		}
	}
}
