// Package fake is a faithful stand-in for an Odoo server, served by an
// httptest server.
//
// It exists so that the Odoo driver can be tested, and newcomers can run
// crmhost in dev mode, without an Odoo instance. It speaks both of Odoo's
// external APIs: JSON-RPC (POST /jsonrpc, the common service's version
// and authenticate, the object service's execute_kw) on every version, and
// JSON-2 (POST /json/2/<model>/<method>, bearer API key, X-Odoo-Database)
// from Odoo 19. Behind them sits one server with two databases, each with
// its models (res.partner, crm.lead, mail.message, ir.model,
// ir.model.data, a custom x_pet model...), the ORM's search domains,
// orders and NULL semantics, phone_validation's phone_mobile_search,
// write_date kept to the second, create/write/unlink/load with their
// validation, and Odoo's quirks: JSON-RPC errors arrive as HTTP 200 with
// error.data.name (AccessDenied, AccessError, MissingError,
// ValidationError, UserError, ValueError, KeyError for a model that is not
// installed, psycopg2's OperationalError for a database that does not
// exist), JSON-2 maps them to 401/403/404/422, authenticate answers false
// for a bad key, mobile is gone from saas~18.2.
//
// Odoo publishes no OpenAPI description. The shape of every request
// (envelopes, services, execute_kw's arity, each model method's
// parameters and their kinds, JSON-2's headers and named-argument bodies)
// is written down in protocol.go from Odoo's signatures, and a request
// that does not match it is reported (a test failure under New) besides
// being answered as Odoo answers it.
//
// Server implements drivertest.Provider: Inject makes the next requests
// fail the way an Odoo server or its proxy fails (429 from the proxy,
// 502/503, dropped responses, latency, a revoked API key).
package fake
