// Package browser holds the operator console's browser tests: a real host
// (SQLite store, the real HubSpot and Odoo driver binaries against their
// fakes, the console mounted as crmhost serve mounts it) driven through
// Debian's chromium with chromedp. Each flow fails on any JavaScript
// console error, exception or CSP violation, and saves a screenshot of
// each step under artifacts/ (git-ignored).
//
// chromium must be installed (`apt-get install chromium`; .ci/run does
// it). Without it the tests fail when CI is set and skip otherwise.
package browser
