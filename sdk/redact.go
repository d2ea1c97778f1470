package sdk

import "strings"

// minRedacted is the shortest secret value redacted from messages: shorter
// values (a "1", a "true") would mangle every message they appear in.
const minRedacted = 6

// redact replaces every secret and app credential value of conn found in
// msg with "[redacted]".
func redact(msg string, conn Connection) string {
	if msg == "" {
		return msg
	}
	for _, m := range []map[string]string{conn.Secret, conn.App} {
		for _, v := range m {
			if len(v) >= minRedacted && strings.Contains(msg, v) {
				msg = strings.ReplaceAll(msg, v, "[redacted]")
			}
		}
	}
	return msg
}

// redactError returns err as an *Error whose message holds none of conn's
// secret values: the last line of defence before an error leaves a driver.
func redactError(err error, conn Connection) error {
	e := AsError(err)
	if e == nil {
		return nil
	}
	m := redact(e.Message, conn)
	if m == e.Message {
		return err
	}
	c := *e
	c.Message = m
	return &c
}
