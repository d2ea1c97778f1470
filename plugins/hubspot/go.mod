module crmhost.dev/plugins/hubspot

go 1.26.0

require crmhost.dev/sdk v0.0.0

require (
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/nyaruka/phonenumbers v1.8.1 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace crmhost.dev/sdk => ../../sdk
