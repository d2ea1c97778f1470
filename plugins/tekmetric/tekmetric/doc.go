// Package tekmetric is the crmhost driver for Tekmetric, the repair shop
// management system of the auto-shop pack (partner API v1).
//
// It translates the sdk verbs into Tekmetric's REST calls: customers
// (canonical customer: lookup by phone, email or id through the customer
// search, search, create, partial update, ListRecent), repair orders
// (search, the few fields Tekmetric lets a partner update, ListRecent) and
// appointments (canonical booking: create, partial update, soft delete,
// ListRecent). Tekmetric has no delete for customers or repair orders, no
// erase, no notes or activity API (so no conversation object) and no
// webhooks; the driver declares each missing verb per object with the
// limitation named, and the sdk answers it without reaching the driver.
//
// Tekmetric's only authentication is the OAuth2 client-credentials grant
// with the platform's partner client id and secret (app credentials, the
// same for every tenant); the token it answers reaches every shop that
// has authorized the platform, listed in its scope. A tenant's connection
// names its shop (config shop_id) and the Tekmetric host (config
// api_host: production or sandbox). The driver obtains the token itself
// when a connection has none, sends it back to the host as a credential
// update (secret access_token) and reuses it from conn.Secret on every
// later call; the token does not expire, so Refresh (called by the host
// after an auth_error) simply obtains a new one.
//
// Because one token reaches every authorized shop, the driver checks the
// shop of every record it reads by id before answering or writing it: a
// record of another shop is not_found, never another tenant's data.
//
// The driver is stateless: it keeps one provider.Client (the sdk's HTTP
// toolkit: egress guard, redirect policy, size cap, redaction) and a
// per-process rate-limit back-off counter, nothing else.
//
// Every method returns *sdk.Error values: CodeAuth for rejected tokens,
// refused client credentials or a shop that has not authorized the
// platform; CodeNotFound; CodeInvalid naming the field (config.shop_id,
// config.api_host, app.client_id, fields.<name>, external_id);
// CodeRateLimited with the back-off to honour; CodeUnavailable for
// Tekmetric outages, dropped connections and the call's context ending
// (wrapping ctx.Err()).
package tekmetric
