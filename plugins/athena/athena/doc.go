// Package athena is the crmhost driver for athenahealth's athenaOne REST
// API (v1).
//
// It translates the sdk verbs into athenaOne's calls under
// /v1/{practiceid}: patients (lookup by phone and email through
// GET /patients, by id, the server's best-match search
// /patients/enhancedbestmatch, form-encoded create whose server-side best
// match makes retries idempotent, partial PUT), booked appointments
// (booking an open slot, cancelling, rescheduling), open appointment
// slots, patient cases (the conversation object), ListRecent through the
// changed-data feeds /patients/changed and /appointments/changed, and
// DescribeObject from the documented field lists (athenaOne exposes no
// schema endpoint).
//
// athenaOne authenticates the platform's app with the OAuth 2.0
// client-credentials grant (POST /oauth2/v1/token, one-hour tokens). The
// app's client id and secret are app credentials (Connection.App); the
// tenant's connection names a practice. The driver obtains a token when
// the connection holds none or holds one about to expire, and hands it to
// the host as a credential update (sdk.UpdateCredential) so that the next
// call, on any replica, reuses it; Refresh obtains a new one.
//
// The driver is stateless: one provider.Client (the sdk's HTTP toolkit:
// egress guard, redirect policy, size cap, redaction) per process and
// nothing else. Every method returns *sdk.Error values: CodeAuth for
// refused tokens, client credentials or practices, CodeNotFound,
// CodeInvalid naming the field (config.practice_id, fields.<name>),
// CodeConflict (an appointment slot booked by another patient),
// CodeRateLimited with athenahealth's retry-after, CodeUnavailable for
// outages and dropped connections (wrapping ctx.Err() when the call's
// context ends), and CodeUnsupported or CodeDeleteUnsupported for what
// athenaOne cannot do.
package athena
