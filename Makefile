# xbr — every target installs what it needs; nothing has to be set up by hand.
SHELL := /bin/bash
ROOT  := $(CURDIR)
TOOLS := $(ROOT)/.cache/tools
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X xbr/shared/cli.Version=$(VERSION)
GOTEST_FLAGS ?= -count=1 -timeout 14m

export XBR_TOOLS := $(TOOLS)
export XBR_VERSITYGW := $(TOOLS)/bin/versitygw
export XBR_NODE_MODULES := $(TOOLS)/npm/node_modules

PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man

.PHONY: all build run man install test test-go tools lint bench fuzz clean

all: build

build:
	go build -ldflags "$(LDFLAGS)" -o bin/xbr .

# Manual pages generated from the command tree (what --help says), under bin/man/man1.
man: build
	rm -rf bin/man
	./bin/xbr man bin/man/man1

# The binary and its manual pages (the systemd units' Documentation=man:xbr(1)).
# DESTDIR stages a package: make install DESTDIR=/tmp/pkg PREFIX=/usr
install: man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1
	install -m 0755 bin/xbr $(DESTDIR)$(PREFIX)/bin/xbr
	install -m 0644 bin/man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/

# The embedded demo: embedded NATS, the built-in XAPI simulator, a directory remote under ./var.
# ARGS go to xbr serve, e.g. make run ARGS="--http 127.0.0.1:9080 --nats-listen 127.0.0.1:5222 --demo-sim-listen 127.0.0.1:9443"
run: build
	./bin/xbr serve $(ARGS)

# Tools the tests need (S3 gateway, npm xen-api client, headless Chromium, promtool), cached under .cache/.
tools:
	@bash scripts/tools.sh

test: tools
	XBR_TEST_NO_SKIP=1 go test $(GOTEST_FLAGS) ./...

# gofmt, go vet, and golangci-lint's depguard rules (.golangci.yml): the dependency direction.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	@bash scripts/install-golangci-lint.sh
	$(TOOLS)/bin/golangci-lint run ./...

bench: tools build
	@bash scripts/bench.sh

# Run every fuzz target for FUZZTIME each (default 20s).
fuzz:
	@bash scripts/fuzz.sh $(or $(FUZZTIME),20s)

clean:
	rm -rf bin var
