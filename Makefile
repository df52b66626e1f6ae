# nodecred: build, test, demo, lint, fuzz.
# A fresh machine needs only Go: every tool is built from the Go module proxy.

GO          ?= go
CGO_ENABLED ?= 0
export CGO_ENABLED

REGISTRY_MODULE := github.com/distribution/distribution/v3/cmd/registry@v3.1.2
UNIT_PKGS       := $(shell $(GO) list ./... | grep -v -e /test/e2e$$ -e /test/conformance$$ -e /test/repro$$ -e /test/cluster$$)
FUZZTIME        ?= 3s

# VERSION: git describe of the newest v* tag, else 0.0.0-dev+COMMIT (hack/version.sh).
VERSION := $(or $(VERSION),$(shell hack/version.sh))
LDFLAGS := -X github.com/nodecred/nodecred/version.Version=$(VERSION)

# staticcheck, built from the Go module proxy; a new version gets a new directory.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := bin/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

.PHONY: all build tools test unit race e2e conformance conformance-packages cluster cluster-packages fuzz-short fuzz bench compat demo lint dist repro clean

all: build

## build: bin/containerd (containerd with nodecred built in), bin/nodecred (the CLI) and
## bin/docker-credential-nodecred (a relative symlink: the CLI as a docker credential helper)
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/containerd ./cmd/containerd
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/nodecred ./cmd/nodecred
	ln -sfn nodecred bin/docker-credential-nodecred

## tools: the distribution registry the tests and demo run
tools: bin/tools/registry
bin/tools/registry:
	GOBIN=$(CURDIR)/bin/tools $(GO) install $(REGISTRY_MODULE)

## test: every test: unit tests under -race, short fuzz runs, end-to-end, conformance and the
## Kubernetes node (as root), and that make dist is reproducible
test: lint race fuzz-short e2e conformance cluster repro

unit:
	$(GO) test -count=1 $(UNIT_PKGS)

# The race detector needs cgo.
race:
	CGO_ENABLED=1 $(GO) test -count=1 -race $(UNIT_PKGS)

## e2e: real containerd (with and without nodecred) and real registries on loopback
e2e: build tools
	$(GO) test -count=1 -timeout 20m ./test/e2e/

## conformance: real credential programs (ecr-login, ecr-credential-provider, docker-credential-gcr,
## docker-credential-acr-env, docker-credential-pass; acr-credential-provider where it builds), built from the Go module
## proxy into bin/tools/real, pulling through containerd with nodecred from loopback stand-ins
conformance: build tools conformance-packages
	$(GO) test -count=1 -timeout 30m ./test/conformance/ -v

# pass and GnuPG, which docker-credential-pass runs, are Debian packages: installed with apt-get
# where it is there and we are root. Without them the pass test skips and says why.
conformance-packages:
	@if ! command -v pass >/dev/null || ! command -v gpg-connect-agent >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "conformance: installing pass and gnupg with apt-get"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pass gnupg >/dev/null; } \
	      || echo "conformance: apt-get could not install pass and gnupg; the docker-credential-pass test will skip"; \
	  else \
	    echo "conformance: pass and gnupg are not installed; the docker-credential-pass test will skip"; \
	  fi; \
	fi

## cluster: a real Kubernetes node on loopback: kubelet, kube-apiserver, kube-controller-manager,
## kube-scheduler (v1.35.4) and etcd built from the Go module proxy into bin/tools (once per
## version), runc from the host, against containerd with nodecred and stock containerd
cluster: build tools cluster-packages
	$(GO) test -count=1 -timeout 80m ./test/cluster/ -v

# runc, which runs the pods' containers, and a static busybox, which the auth-sync DaemonSet's
# image holds, are Debian packages: installed with apt-get where it is there and we are root.
# Without runc every cluster test skips; without busybox the auth-sync test skips; each says why.
cluster-packages:
	@if ! command -v runc >/dev/null || ! command -v busybox >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "cluster: installing runc and busybox-static with apt-get"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc busybox-static >/dev/null; } \
	      || echo "cluster: apt-get could not install runc and busybox-static; the tests that need them will skip"; \
	  else \
	    echo "cluster: runc or busybox is not installed; the tests that need them will skip"; \
	  fi; \
	fi

fuzz-short:
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

## fuzz: each fuzz target for FUZZTIME (make fuzz FUZZTIME=5m); TestMakefileFuzzesEveryTarget
## fails when a fuzz target is missing here
fuzz:
	$(GO) test ./credentials/dockerconfig/ -run '^$$' -fuzz '^FuzzParseDockerConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/hostmatch/ -run '^$$' -fuzz '^FuzzPattern$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/hostmatch/ -run '^$$' -fuzz '^FuzzPatternsIndex$$' -fuzztime $(FUZZTIME)
	$(GO) test ./credentials/kubelet/ -run '^$$' -fuzz '^FuzzParseProviderResponse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/redact/ -run '^$$' -fuzz '^FuzzRedact$$' -fuzztime $(FUZZTIME)
	$(GO) test ./credentials/kubelet/ -run '^$$' -fuzz '^FuzzProviderResponseAgainstKubelet$$' -fuzztime $(FUZZTIME)
	$(GO) test ./credentials/kubelet/ -run '^$$' -fuzz '^FuzzParseKubeletConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./credentials/ -run '^$$' -fuzz '^FuzzPublicStatus$$' -fuzztime $(FUZZTIME)
	$(GO) test ./credentials/kubelet/ -run '^$$' -fuzz '^FuzzKubeletConfigDirectory$$' -fuzztime $(FUZZTIME)
	$(GO) test ./config/ -run '^$$' -fuzz '^FuzzConfigSection$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cripull/ -run '^$$' -fuzz '^FuzzSectionAgainstCRI$$' -fuzztime $(FUZZTIME)

## bench: Go benchmarks (lookups, caches, exec deduplication, heap, per-pull work) and the
## side-by-side driver against stock containerd (see BENCHMARKS.md)
bench: build tools
	$(GO) test -run '^$$' -bench 'Lookup1|Lookup10k|FileLookup|CacheHit|ReloadCheck' -benchmem -benchtime 20000x ./credentials/...
	$(GO) test -run '^$$' -bench 'RedactLargeInput' -benchmem -benchtime 200x ./internal/redact/
	$(GO) test -run '^$$' -bench 'Heap' -benchtime 5x ./credentials/...
	$(GO) test -run '^$$' -bench 'ConcurrentLookupsOneKey' -benchtime 10x ./credentials/...
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 20000x ./transfer/
	$(GO) test -run '^$$' -bench 'HostileFilesRSS' -benchtime 3x ./test/e2e/
	$(GO) test -run '^$$' -bench 'FirstSandboxSlowProvider|DiscardUnpackedLayersDiskKept' -benchtime 1x ./test/e2e/
	$(GO) run ./test/bench
	$(GO) run ./test/bench/renewal

## dist: release tarballs for DIST_PLATFORMS in dist/, each with a sha256sum file, and the
## systemd drop-in and config snippet (docs/operations.md installs them); built with -trimpath
## and fixed timestamps: two runs on the same commit give the same bytes (make repro checks)
DIST_PLATFORMS ?= linux/amd64 linux/arm64
dist:
	rm -rf dist
	$(GO) run ./hack/dist -version $(VERSION) -out dist $(DIST_PLATFORMS)

## repro: make dist twice, in two clones of the checked-out commit, and compare the bytes
## (REPRO_COLD=1: the second build with an empty Go build cache)
repro:
	$(GO) test -count=1 -timeout 60m ./test/repro/ -v

## compat: go vet, the unit tests and the e2e suite against the newest patch of each containerd
## minor nodecred builds against (make compat COMPAT_VERSIONS="v2.3.7")
COMPAT_VERSIONS ?= v2.2.9 v2.3.7 v2.4.2
compat:
	$(GO) run ./test/compat -versions "$(COMPAT_VERSIONS)"

## demo: the sandbox image pulled with node credentials, next to stock containerd failing it
demo: build tools
	$(GO) run ./test/e2e/demo

## lint: tracked files (none over 1 MiB, no executable binaries; Go files with the Apache 2.0
## header, packages and exported names with doc comments: `go run ./hack/checkfiles -fix` adds
## missing headers), go mod tidy, go vet, gofmt, staticcheck, and cross-builds for windows/amd64 (all but the Linux-only test/ tree) and linux/arm64
lint: $(STATICCHECK)
	$(GO) run ./hack/checkfiles
	$(GO) mod tidy -diff
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...
	GOOS=windows GOARCH=amd64 $(GO) build $$(GOOS=windows $(GO) list -f '{{if .GoFiles}}{{.ImportPath}}{{end}}' ./... | grep -v /test/)
	GOOS=linux GOARCH=arm64 $(GO) build ./...

$(STATICCHECK):
	GOBIN=$(CURDIR)/$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

clean:
	rm -rf bin dist
