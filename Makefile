# verdict — Kubernetes admission policies in CI and in the cluster, and an offline RBAC simulator.

# Tool and build settings, pinned in one place.
GO         ?= go
BIN        ?= $(CURDIR)/bin
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS    := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
GOTEST     ?= $(GO) test
BENCHTIME  ?= 2s
FUZZTIME   ?= 30s

# Tools, installed from the Go module proxy into bin/tools by their targets (see ##@ Tools).
TOOLS             ?= $(BIN)/tools
HELM_VERSION      ?= v3.22.0
ACTIONLINT_VERSION ?= v1.7.12
STATICCHECK_VERSION ?= v0.8.2
HELM              ?= $(TOOLS)/helm
ACTIONLINT        ?= $(TOOLS)/actionlint
STATICCHECK       ?= $(TOOLS)/staticcheck

# The control plane of the end-to-end tests, built from source (see ##@ Control plane).
# These must match the requirements in hack/controlplane/*/go.mod; the build checks that they do.
KUBE_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.7.3
K8S_BIN      ?= $(BIN)/k8s

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
lint: $(STATICCHECK) ## Check formatting (gofmt), go.mod tidiness (go mod tidy -diff), run go vet and staticcheck.
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(STATICCHECK) ./...

.PHONY: test
test: lint lint-chart lint-actions controlplane test-image ## Run the unit and end-to-end tests (building the control plane first).
	$(GOTEST) ./...

.PHONY: bench
bench: ## Run the benchmarks on one core (GOGC=400, as the binary runs, unless GOGC is set).
	GOGC=$${GOGC:-400} $(GOTEST) -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -cpu 1 ./...

.PHONY: load
# make compare installs the other tools into COMPARE_TOOLS (a scratch folder, never committed) once.
COMPARE_TOOLS    ?= /tmp/verdict-compare
GATOR_VERSION    ?= v3.23.1
CONFTEST_VERSION ?= v0.71.1
KYVERNO_VERSION  ?= v1.19.1
compare-tool = test -x $(COMPARE_TOOLS)/$(1) || GOBIN=$(COMPARE_TOOLS) GOWORK=off CGO_ENABLED=0 $(GO) install $(2)

.PHONY: compare
compare: build ## Time verdict check beside gator, conftest and kyverno on 10,000 Pods, and the rbac commands beside kube's authorizer (tools go to COMPARE_TOOLS).
	@mkdir -p $(COMPARE_TOOLS)
	$(call compare-tool,gator,github.com/open-policy-agent/gatekeeper/v3/cmd/gator@$(GATOR_VERSION))
	$(call compare-tool,conftest,github.com/open-policy-agent/conftest@$(CONFTEST_VERSION))
	@# Kyverno's go.mod carries a replace directive, which go install refuses: built from hack/compare/kyverno.
	@$(call pinned-version,hack/compare/kyverno,github.com/kyverno/kyverno,$(KYVERNO_VERSION))
	test -x $(COMPARE_TOOLS)/kubectl-kyverno || (cd hack/compare/kyverno && GOWORK=off CGO_ENABLED=0 $(GO) build \
		-o $(COMPARE_TOOLS)/kubectl-kyverno github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno)
	$(GO) build -o $(COMPARE_TOOLS)/kubeauthz ./test/compare/kubeauthz
	$(GOTEST) ./test/compare -run TestCompare -count=1 -v -timeout 30m -compare -verdict $(BIN)/verdict \
		-gator $(COMPARE_TOOLS)/gator -conftest $(COMPARE_TOOLS)/conftest -kyverno $(COMPARE_TOOLS)/kubectl-kyverno \
		-kubeauthz $(COMPARE_TOOLS)/kubeauthz

load: build ## Load-test verdict serve over TLS on loopback, the server on CPU 1 and the load on CPU 0 (OPA=path/to/opa to measure OPA's server too).
	$(if $(shell command -v taskset),taskset -c 0) $(GOTEST) ./test/load -run TestLoad -count=1 -v -timeout 10m -load -verdict $(BIN)/verdict $(if $(OPA),-opa $(OPA))

.PHONY: parity
parity: ## Compare verdict check --as-written with the real gator test and conftest test (GATOR=path CONFTEST=path).
	@if [ -z "$(GATOR)$(CONFTEST)" ]; then echo "give GATOR=path/to/gator and/or CONFTEST=path/to/conftest (see docs/parity.md)"; exit 2; fi
	$(GOTEST) ./test/parity -count=1 -v $(if $(GATOR),-gator $(abspath $(GATOR))) $(if $(CONFTEST),-conftest $(abspath $(CONFTEST))) $(if $(VERDICT),-verdict $(abspath $(VERDICT)))

.PHONY: fuzz
fuzz: ## Fuzz the parsers (manifests, AdmissionReviews and their request bounds, RBAC objects, simulate's raw requests), FUZZTIME each.
	$(GOTEST) -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./manifest
	$(GOTEST) -run '^$$' -fuzz '^FuzzDecodeReview$$' -fuzztime $(FUZZTIME) ./webhook
	$(GOTEST) -run '^$$' -fuzz '^FuzzReadReview$$' -fuzztime $(FUZZTIME) ./webhook
	$(GOTEST) -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./rbacsim
	$(GOTEST) -run '^$$' -fuzz '^FuzzRunRequest$$' -fuzztime $(FUZZTIME) ./simulate

##@ Build

.PHONY: build
build: ## Build bin/verdict, statically linked (CGO_ENABLED=0), as the container image holds it.
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/verdict ./cmd/verdict

# The container image: bin/verdict on an empty base (hack/image, a tools module of its own), dated by
# the commit so that the same binary gives the same digest.
IMAGE             ?= $(BIN)/image
PUSH              ?=
CA_CERTS          ?= /etc/ssl/certs/ca-certificates.crt
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
IMAGE_SRC         := hack/image

$(TOOLS)/image: $(addprefix $(IMAGE_SRC)/,go.mod go.sum main.go)
	@mkdir -p $(@D)
	cd $(IMAGE_SRC) && GOWORK=off CGO_ENABLED=0 $(GO) build -o $(abspath $@) .

.PHONY: image
image: build $(TOOLS)/image ## Write the container image as an OCI layout to bin/image; PUSH=registry/name:tag also pushes it.
	$(TOOLS)/image -binary $(BIN)/verdict -ca-certs $(CA_CERTS) -out $(IMAGE) -version $(VERSION) -revision $(COMMIT) \
		-created "$(SOURCE_DATE_EPOCH)" -arch $$($(GO) env GOARCH) $(if $(PUSH),-push $(PUSH))

.PHONY: test-image
test-image: image ## Check the image layout: its config, its layers, and the binary in it.
	cd $(IMAGE_SRC) && GOWORK=off $(GO) vet . && GOWORK=off $(GOTEST) -count=1 . -args -layout $(IMAGE)

.PHONY: run
run: build ## Serve the embedded default policies as admission webhooks on :8443 (self-signed certificate).
	$(BIN)/verdict serve

.PHONY: check-samples
check-samples: build ## Check the sample manifests against the embedded default policies.
	@# Exit 1 means a policy denied a sample, which is the point of the samples.
	$(BIN)/verdict check config/samples/manifests/; rc=$$?; [ $$rc -le 1 ]

.PHONY: manifests
manifests: ## Copy the embedded default policies into config/policies, which the install serves.
	rm -f config/policies/*.yaml
	cp policies/library/policies/*.yaml config/policies/
	@{ echo "# The policies the webhook serves, as a ConfigMap mounted at /etc/verdict/policies: a copy of the"; \
	  echo "# embedded default set (make manifests refreshes it; a test keeps it equal). Edit or add files and"; \
	  echo "# apply again: verdict reloads them without a restart."; \
	  echo "configMapGenerator:"; echo "- name: policies"; echo "  files:"; \
	  for f in $$(cd config/policies && ls *.yaml | grep -v '^kustomization.yaml$$'); do echo "  - $$f"; done; \
	} > config/policies/kustomization.yaml.new
	mv config/policies/kustomization.yaml.new config/policies/kustomization.yaml
	rm -f charts/verdict/files/policies/*.yaml
	cp policies/library/policies/*.yaml charts/verdict/files/policies/

##@ Tools

# Each tool is installed once per version: the file name carries the version, and a link without it
# is what the targets run.
$(TOOLS)/helm-$(HELM_VERSION):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOWORK=off CGO_ENABLED=0 $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS)/helm $@

$(TOOLS)/actionlint-$(ACTIONLINT_VERSION):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOWORK=off CGO_ENABLED=0 $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(TOOLS)/actionlint $@

$(TOOLS)/staticcheck-$(STATICCHECK_VERSION):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOWORK=off CGO_ENABLED=0 $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $@

$(STATICCHECK): $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
	ln -sf $(notdir $<) $@

$(HELM): $(TOOLS)/helm-$(HELM_VERSION)
	ln -sf $(notdir $<) $@

$(ACTIONLINT): $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)
	ln -sf $(notdir $<) $@

.PHONY: tools
tools: $(HELM) $(ACTIONLINT) $(STATICCHECK) ## Install helm, actionlint and staticcheck into bin/tools.

##@ CI integrations

.PHONY: lint-actions
lint-actions: $(ACTIONLINT) ## Lint the workflows with actionlint, which checks their use of action.yml too.
	$(ACTIONLINT) .github/workflows/*.yml

##@ Helm chart

.PHONY: lint-chart
lint-chart: $(HELM) ## Lint charts/verdict and render it with its default and its optional values.
	$(HELM) lint --strict charts/verdict
	$(HELM) template verdict charts/verdict --namespace verdict-system >/dev/null
	$(HELM) template verdict charts/verdict --namespace verdict-system --set namespace.create=false \
		--set certificates.certManager=false,certificates.caBundle=Q0E= --set metrics.service.enabled=true \
		--set metrics.serviceMonitor.enabled=true,networkPolicy.enabled=true \
		--set mutating.enabled=true,webhook.podsExec=true >/dev/null

##@ Control plane

# kube-apiserver and etcd cannot be downloaded here, so they are built from source through the Go
# module proxy by the tools modules in hack/controlplane (each its own go.mod, outside the main module).
# A binary is rebuilt only when its tools module changes; the Go build cache keeps a rebuild short.
CONTROLPLANE_SRC := hack/controlplane
CONTROLPLANE_GO  := GOWORK=off CGO_ENABLED=0 $(GO)
KUBE_VERSION_PKG := k8s.io/component-base/version
KUBE_LDFLAGS     := -s -w \
	-X $(KUBE_VERSION_PKG).gitVersion=$(KUBE_VERSION) \
	-X $(KUBE_VERSION_PKG).gitMajor=$(patsubst v%,%,$(word 1,$(subst ., ,$(KUBE_VERSION)))) \
	-X $(KUBE_VERSION_PKG).gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION))) \
	-X $(KUBE_VERSION_PKG).gitTreeState=clean

# pinned-version MODULE_DIR,MODULE,VERSION: fail unless the tools module requires MODULE at VERSION.
pinned-version = got="$$(cd $(1) && $(CONTROLPLANE_GO) list -m -f '{{.Version}}' $(2))" && \
	if [ "$$got" != "$(3)" ]; then echo "$(1)/go.mod requires $(2) $$got, the Makefile pins $(3)"; exit 1; fi

.PHONY: controlplane
controlplane: $(K8S_BIN)/kube-apiserver $(K8S_BIN)/etcd $(K8S_BIN)/kubectl ## Build kube-apiserver, etcd and kubectl for the e2e tests into bin/k8s.

$(K8S_BIN)/kube-apiserver: $(addprefix $(CONTROLPLANE_SRC)/kube-apiserver/,go.mod go.sum main.go)
	@$(call pinned-version,$(CONTROLPLANE_SRC)/kube-apiserver,k8s.io/kubernetes,$(KUBE_VERSION))
	@mkdir -p $(@D)
	cd $(CONTROLPLANE_SRC)/kube-apiserver && \
	date="$$($(CONTROLPLANE_GO) list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)" && \
	$(CONTROLPLANE_GO) build -trimpath -ldflags "$(KUBE_LDFLAGS) -X $(KUBE_VERSION_PKG).buildDate=$$date" -o $(abspath $@).tmp . && \
	mv $(abspath $@).tmp $(abspath $@)

# kubectl of the same release, for the simulate differential test (real kubectl apply --as): its module
# requires the staging module k8s.io/kubectl at the v0 version of KUBE_VERSION (v1.37.2 -> v0.37.2).
$(K8S_BIN)/kubectl: $(addprefix $(CONTROLPLANE_SRC)/kubectl/,go.mod go.sum main.go)
	@$(call pinned-version,$(CONTROLPLANE_SRC)/kubectl,k8s.io/kubectl,$(patsubst v1.%,v0.%,$(KUBE_VERSION)))
	@mkdir -p $(@D)
	cd $(CONTROLPLANE_SRC)/kubectl && $(CONTROLPLANE_GO) build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $(abspath $@).tmp . && \
	mv $(abspath $@).tmp $(abspath $@)

$(K8S_BIN)/etcd: $(addprefix $(CONTROLPLANE_SRC)/etcd/,go.mod go.sum main.go)
	@$(call pinned-version,$(CONTROLPLANE_SRC)/etcd,go.etcd.io/etcd/server/v3,$(ETCD_VERSION))
	@mkdir -p $(@D)
	cd $(CONTROLPLANE_SRC)/etcd && $(CONTROLPLANE_GO) build -trimpath -ldflags "-s -w" -o $(abspath $@).tmp . && mv $(abspath $@).tmp $(abspath $@)

.PHONY: test-e2e
test-e2e: controlplane ## Run only the end-to-end tests, against a real kube-apiserver and etcd.
	$(GOTEST) ./test/e2e/... -count=1 -timeout 20m

# manifest's table of built-in resources (scope, plural, short names, versions): the discovery of the e2e kube-apiserver.
BUILTIN_RESOURCES ?= $(CURDIR)/manifest/builtin_resources.json

.PHONY: resources
resources: controlplane ## Regenerate manifest's table of built-in resources from the discovery of the e2e kube-apiserver.
	$(GOTEST) ./test/e2e -run '^TestBuiltinResources$$' -count=1 -args -dump-resources=$(BUILTIN_RESOURCES)

##@ RBAC

# kube-controller-manager's ClusterRole aggregation controller, on its own, for the RBAC end-to-end
# tests (envtest runs no controller-manager): built like the control plane, from a tools module
# that requires k8s.io/kubernetes at KUBE_VERSION.
AGGREGATOR_SRC := test/e2e/controlplane/aggregator
# rbacsim's --with-defaults data: the bootstrap RBAC policy of the e2e kube-apiserver.
RBAC_DEFAULTS  ?= $(CURDIR)/rbacsim/defaults/bootstrap.yaml

.PHONY: rbac-aggregator
rbac-aggregator: $(K8S_BIN)/clusterrole-aggregation ## Build the ClusterRole aggregation controller for the e2e tests into bin/k8s.

$(K8S_BIN)/clusterrole-aggregation: $(addprefix $(AGGREGATOR_SRC)/,go.mod go.sum main.go)
	@$(call pinned-version,$(AGGREGATOR_SRC),k8s.io/kubernetes,$(KUBE_VERSION))
	@mkdir -p $(@D)
	cd $(AGGREGATOR_SRC) && $(CONTROLPLANE_GO) build -trimpath -ldflags "-s -w" -o $(abspath $@).tmp . && mv $(abspath $@).tmp $(abspath $@)

# The end-to-end tests need it as they need the control plane.
test test-e2e: $(K8S_BIN)/clusterrole-aggregation

.PHONY: rbac-defaults
rbac-defaults: controlplane ## Regenerate rbacsim's --with-defaults data from the bootstrap policy of the e2e kube-apiserver.
	$(GOTEST) ./test/e2e -run '^TestRBACDefaults$$' -count=1 -args -dump-rbac-defaults=$(RBAC_DEFAULTS)

.PHONY: test-rbac
test-rbac: controlplane rbac-aggregator ## Run the RBAC simulator's unit tests and its parity tests against kube-apiserver.
	$(GOTEST) ./rbacsim/... ./cmd/verdict -run RBAC -count=1
	$(GOTEST) ./test/e2e -run RBAC -count=1 -v
