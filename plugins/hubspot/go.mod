module crmhost.dev/plugins/hubspot

go 1.26.0

require (
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
)
