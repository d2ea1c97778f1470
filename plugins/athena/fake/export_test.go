package fake

// StartWith starts a fake with its spec reports sent to report; need
// requires the third-party OpenAPI.
func StartWith(o Options, report func(string, ...any), need bool) (*Server, error) {
	return start(o, report, need)
}
