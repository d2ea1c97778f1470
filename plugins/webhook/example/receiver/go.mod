module crmhost.dev/plugins/webhook/example/receiver

go 1.26.0
