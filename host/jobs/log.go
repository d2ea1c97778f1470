package jobs

import (
	"context"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// logHandler is a slog.Handler writing to an hclog.Logger, so River's logs
// join the host's. River's info lines (each migration applied, the client
// started and stopped, its producers' job counts every few seconds) are
// written at debug level: they describe River's own machinery, and at
// info they drown the host's log. Its warnings and errors keep their
// level.
type logHandler struct {
	l      hclog.Logger
	attrs  []any
	prefix string // group prefix for attribute keys, "" or "g."
}

func newLogHandler(l hclog.Logger) *logHandler { return &logHandler{l: l} }

func (h *logHandler) Enabled(_ context.Context, level slog.Level) bool {
	switch hclogLevel(level) {
	case hclog.Error:
		return h.l.IsError()
	case hclog.Warn:
		return h.l.IsWarn()
	}
	return h.l.IsDebug()
}

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	args := append([]any(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = h.appendAttr(args, h.prefix, a)
		return true
	})
	h.l.Log(hclogLevel(r.Level), r.Message, args...)
	return nil
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	args := append([]any(nil), h.attrs...)
	for _, a := range attrs {
		args = h.appendAttr(args, h.prefix, a)
	}
	return &logHandler{l: h.l, attrs: args, prefix: h.prefix}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &logHandler{l: h.l, attrs: h.attrs, prefix: h.prefix + name + "."}
}

// appendAttr flattens a (possibly group) attribute into key/value pairs.
func (h *logHandler) appendAttr(args []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			args = h.appendAttr(args, p, g)
		}
		return args
	}
	if a.Key == "" {
		return args
	}
	return append(args, prefix+a.Key, v.Any())
}

func hclogLevel(l slog.Level) hclog.Level {
	switch {
	case l >= slog.LevelError:
		return hclog.Error
	case l >= slog.LevelWarn:
		return hclog.Warn
	}
	return hclog.Debug
}
