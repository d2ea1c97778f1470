// Command crmhost-specs fetches the providers' official API descriptions
// into the checkout, so that the fakes' spec validation works in a clone
// with no ../shared beside it. It is what `make specs` runs:
//
//	crmhost-specs [-dir .specs]   fetch every file of manifest.json into dir
//	crmhost-specs -check          say where each provider's specs are found
//
// manifest.json lists each file's place under dir (hubspot/…, zoho/…), its
// public source and, for sources pinned to a commit, the sha256 of the
// file as stored: a download that does not match is refused, so .specs
// holds byte for byte what ../shared/specs holds. Files already present
// with the right checksum are not fetched again. Toast publishes its specs
// only at moving URLs; those are stored as served.
//
// -check prints, for each provider, the folder the fakes will validate
// against (see crmhost.dev/sdk/providertest.Locate), or a warning that
// spec validation will be skipped and how to fix it; with CI set a missing
// provider makes it exit 1.
package main
