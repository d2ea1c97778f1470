# crmhost: build the host and every driver, run it in dev mode, test it.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
PLUGINS := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
MODULES = $(shell $(GO) list -m -f '{{.Path}}/...')
PROTO_TOOLS := $(BIN)/tools

.PHONY: all build host plugins run test test-unit bench profile proto proto-check lint clean specs specs-check

all: build

build: host plugins

host:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/crmhost ./host/cmd/crmhost

# Drivers are built static (CGO_ENABLED=0: no ld.so/libc to load and map,
# about 1.3 MB less RSS per driver process) and stripped (-s -w: about 28%
# smaller, and the host hashes the whole binary on every launch). Build
# with PLUGIN_LDFLAGS= to keep symbols and DWARF for a debugger.
PLUGIN_CGO ?= 0
PLUGIN_LDFLAGS ?= -s -w

# Every plugins/<slug>/main.go becomes bin/plugins/crm-driver-<slug>.
plugins:
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do \
		echo "build driver $$p"; \
		(cd plugins/$$p && CGO_ENABLED=$(PLUGIN_CGO) $(GO) build -trimpath -ldflags '$(PLUGIN_LDFLAGS)' -o $(BIN)/plugins/crm-driver-$$p .) || exit 1; \
	done

# Dev mode: build everything, start the drivers' fake providers, register
# the drivers and serve on 127.0.0.1:8080 with SQLite under .crmhost/.
run: build
	$(GO) build -o $(BIN)/crmhost-dev ./dev/cmd/crmhost-dev
	$(BIN)/crmhost-dev -host $(BIN)/crmhost -plugins $(BIN)/plugins -dir .crmhost

# Tests need the plugins built: host tests launch the real binaries.
test: build lint proto-check specs-check
	CRMHOST_PLUGIN_DIR=$(BIN)/plugins $(GO) test -race -count=1 $(MODULES)

# The fakes validate requests against the providers' official specs, found
# in $CRMHOST_SPECS_DIR, ../shared/specs or .specs/. `make specs` fetches
# them from their public sources into .specs/ (ignored by git); without
# them the validation is skipped outside CI, as specs-check says loudly.
specs:
	$(GO) run ./dev/cmd/crmhost-specs -dir .specs

specs-check:
	@$(GO) run ./dev/cmd/crmhost-specs -check

bench: build
	CRMHOST_PLUGIN_DIR=$(BIN)/plugins $(GO) test -run='^$$' -bench=. -benchmem $(MODULES)

lint:
	@out=$$(gofmt -l sdk host plugins $(wildcard dev)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(MODULES)

# CPU and allocation profiles of the host's hot path at steady load: a
# lookup (BenchmarkLookupThroughHost, one call at a time) and an idempotent
# create (BenchmarkCreateRecord/redis when CRMHOST_TEST_REDIS_URL is set,
# else /local: 16 clients, API key, both limits, a fresh key each). The
# profiles are of the benchmark process: the host, the HubSpot fake and
# the clients (the driver runs in its own process). Written to
# bin/profile/{lookup,create}.{cpu,mem}.pprof with the test binary, and
# summarised with `go tool pprof -top`.
PROFILE := $(BIN)/profile
PROFILE_TIME ?= 5s
PROFILE_CREATE = $(if $(CRMHOST_TEST_REDIS_URL),redis,local)
profile: plugins
	@mkdir -p $(PROFILE)
	cd dev/e2e && CRMHOST_PLUGIN_DIR=$(BIN)/plugins $(GO) test -o $(PROFILE)/e2e.test -run '^$$' -bench '^BenchmarkLookupThroughHost$$' \
		-benchtime $(PROFILE_TIME) -cpu 2 -cpuprofile $(PROFILE)/lookup.cpu.pprof -memprofile $(PROFILE)/lookup.mem.pprof .
	cd dev/e2e && CRMHOST_PLUGIN_DIR=$(BIN)/plugins $(GO) test -o $(PROFILE)/e2e.test -run '^$$' -bench '^BenchmarkCreateRecord$$/^$(PROFILE_CREATE)$$' \
		-benchtime $(PROFILE_TIME) -cpu 2 -cpuprofile $(PROFILE)/create.cpu.pprof -memprofile $(PROFILE)/create.mem.pprof .
	@for p in lookup create; do \
		echo "== $$p: CPU"; $(GO) tool pprof -top -nodecount 30 $(PROFILE)/e2e.test $(PROFILE)/$$p.cpu.pprof 2>/dev/null | sed -n '1,40p'; \
		echo "== $$p: allocated bytes"; $(GO) tool pprof -top -nodecount 20 -sample_index alloc_space $(PROFILE)/e2e.test $(PROFILE)/$$p.mem.pprof 2>/dev/null | sed -n '1,30p'; \
	done

$(PROTO_TOOLS)/protoc-gen-go $(PROTO_TOOLS)/protoc-gen-go-grpc: sdk/go.mod
	@mkdir -p $(PROTO_TOOLS)
	cd sdk && $(GO) build -o $(PROTO_TOOLS)/ google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc

# buf compiles the .proto files in Go: no system protoc. It lives in its own
# module (tools/, outside go.work) so its dependencies never reach the sdk.
$(PROTO_TOOLS)/buf: tools/go.mod
	@mkdir -p $(PROTO_TOOLS)
	cd tools && GOWORK=off $(GO) build -o $(PROTO_TOOLS)/ github.com/bufbuild/buf/cmd/buf

# Regenerate sdk/internal/driverv1 from sdk/proto (sdk/buf.gen.yaml).
proto: $(PROTO_TOOLS)/protoc-gen-go $(PROTO_TOOLS)/protoc-gen-go-grpc $(PROTO_TOOLS)/buf
	cd sdk && PATH=$(PROTO_TOOLS):$$PATH buf generate

# Fails when the checked-in generated code is not what `make proto` makes.
proto-check:
	@$(MAKE) -s proto
	@if [ -n "$$(git status --porcelain -- sdk/internal/driverv1)" ]; then git diff -- sdk/internal/driverv1 | head -40; \
		echo "sdk/internal/driverv1 is stale: run make proto and commit"; exit 1; fi

clean:
	rm -rf $(BIN)
