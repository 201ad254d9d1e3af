# verdict — Kubernetes admission policies in CI and in the cluster, and an offline RBAC simulator.

# Tool and build settings, pinned in one place.
GO         ?= go
BIN        ?= $(CURDIR)/bin
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS    := -X main.version=$(VERSION)
GOTEST     ?= $(GO) test
BENCHTIME  ?= 2s
FUZZTIME   ?= 30s

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: fmt
fmt: ## Format the Go sources.
	$(GO) fmt ./...

.PHONY: lint
lint: ## Check formatting (gofmt) and run go vet.
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: test
test: lint ## Run the unit tests (and, once present, the end-to-end tests).
	$(GOTEST) ./...

.PHONY: bench
bench: ## Run the benchmarks on one core.
	$(GOTEST) -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -cpu 1 ./...

.PHONY: fuzz
fuzz: ## Fuzz the manifest loader for FUZZTIME.
	$(GOTEST) -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./policies/manifest

##@ Build

.PHONY: build
build: ## Build bin/verdict.
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/verdict ./cmd/verdict

.PHONY: run
run: build ## Check the bundled example manifests against the embedded default policies.
	@# Exit 1 means a policy denied an example, which is the point of the examples.
	$(BIN)/verdict check config/samples/manifests/; rc=$$?; [ $$rc -le 1 ]
