// Package provider is the HTTP toolkit every crmhost driver uses to talk to
// its provider's API.
//
// # Why
//
// A driver sends requests to an address a tenant chose (the connection's
// base_url) and reads answers from a server nobody here controls. Done with
// a bare net/http client, that lets a tenant or a hostile provider reach
// the host's own network: a base_url of http://10.0.0.5, a host name that
// resolves to 127.0.0.1, a 302 to http://169.254.169.254/ (the cloud
// metadata service), a proxy picked up from HTTP_PROXY. It also turns
// provider trouble into bad errors: "dial tcp 10.1.2.3:443: connection
// refused" naming internal addresses, a token echoed by the provider in an
// error message, a 50 MB answer read whole, a redirect treated as success.
// Every driver would get these details wrong in its own way; this package
// gets them right once.
//
// # What a request goes through
//
//   - The URL is joined, never concatenated: ParseBaseURL refuses a base
//     URL with a query, fragment or user information (CodeInvalid naming
//     config.base_url), and JoinURL appends an escaped path built with Path
//     or Segment, refusing "." and ".." segments and anything that would
//     change the URL's structure.
//   - No proxy is taken from the environment, ever.
//   - The egress guard checks every connection at dial time, after DNS
//     resolution, and refuses loopback, private (10/8, 172.16/12,
//     192.168/16, fc00::/7), link-local, carrier-grade NAT (100.64/10),
//     multicast, unspecified, broadcast and cloud metadata addresses,
//     IPv4-mapped forms of them, and every other special-purpose range
//     (code.dny.dev/ssrf). The only exception is the host's allowlist in
//     the call's context (sdk.WithEgressAllow: dev mode and tests allow
//     loopback); a tenant's configuration cannot set it. Connections made
//     under one allowlist are pooled apart from all others, so no call
//     reuses a connection it could not have dialed itself.
//   - Redirects are followed only within the same scheme, host and port; any
//     other 3xx is CodeUnavailable naming its status.
//   - The answer is capped (16 MiB by default): a larger one is an error,
//     never a truncated body.
//   - The deadline is the call's context's; a backstop applies only when the
//     context has none.
//   - Errors are *sdk.Error in words that name neither address nor port
//     ("could not reach HubSpot: connection refused", "HubSpot did not
//     answer within the call's deadline"); a context that ends keeps
//     errors.Is(err, context.Canceled) or context.DeadlineExceeded true;
//     every secret of the request is redacted from every message.
//   - Retry-After (seconds or HTTP-date) and the common rate-limit header
//     families are parsed (RetryAfter, ParseRateLimit, Response.RateLimit),
//     and Classify maps statuses to codes, a 429 to CodeRateLimited with the
//     provider's retry-after.
//
// # How a driver uses it
//
// One Client per driver process, shared by every call and tenant:
//
//	d := &Driver{http: provider.New(provider.Options{
//		Name:      "Acme",
//		UserAgent: "crmhost-acme/" + Version,
//		Classify:  classify, // optional: parse Acme's error bodies
//	})}
//
// and per call, a Request with the connection's base URL, an escaped path
// and the call's secrets:
//
//	var out contact
//	err := d.http.Call(ctx, provider.Request{
//		BaseURL: conn.Get(sdk.ConfigBaseURL, "https://api.acme.example"),
//		Path:    provider.Path("v2", "contacts", id),
//		Header:  http.Header{"Authorization": {"Bearer " + conn.Secret["token"]}},
//		Secrets: provider.SecretsOf(conn),
//	}, &out)
//
// Call sends JSON (Request.JSON) or a form (Request.Form), decodes a 2xx
// JSON answer and classifies any other; Do returns the raw Response for a
// driver that inspects statuses itself. Libraries that want an
// *http.Client (golang.org/x/oauth2) get one with the same guards from
// HTTPClient, and TransportError words their errors.
//
// Requests leave through one RoundTripper (sender in transport.go), which
// makes each request, and each redirect followed, an OpenTelemetry client
// span under the call's span (trace.go): method, host, port, status and
// failure kind only, never the URL's path or query, headers or bodies, and
// no trace headers sent to the provider.
package provider
