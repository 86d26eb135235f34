# writebackd — see README.md. Every target installs what it needs (Debian 12, as root).
SWIFT   ?= swift
PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all deps build release test demo demo-ad bench faults fuzz install deb deb-test clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

## Release binaries with the Swift runtime and Foundation linked in: a server needs only
## Debian's libraries (libldap, libsasl2, libsqlite3, libstdc++, gnutls), not a toolchain.
## The flags (static runtime, packed relocations, no exported symbols): scripts/release-build.sh.
release: deps
	scripts/release-build.sh

## The whole test suite against real slapd, Samba AD DC, msmtp (what .ci/run calls).
test: deps
	scripts/run-tests.sh

## A throwaway OpenLDAP, the daemon, a real reset and unlock end to end.
demo: deps
	scripts/demo.sh

## The same against a throwaway Samba AD DC.
demo-ad: deps
	scripts/demo.sh --active-directory

## Benchmarks: figures and ratios against a baseline measured in the same run.
bench: deps
	scripts/bench.sh

## The daemon against real slapd while it is killed, slapd stops or dies, the queue's disk
## fills, hostile rows arrive: nothing lost, applied twice or leaked (`--short` runs in CI).
faults: deps
	scripts/faults.sh

## libFuzzer over the payload decoder, the sealed-field opener, the TOML loader and the control
## socket's line decoder (FUZZ_SECONDS per target, default 300; CI runs 60 s each).
fuzz: deps
	scripts/fuzz.sh

## dist/writebackd_<version>_amd64.deb from the release binaries (scripts/build-deb.sh).
deb: deps
	scripts/build-deb.sh

## The package test on that .deb: lintian, then install, doctor, purge in a clean Debian 12 root.
deb-test: deb
	lintian --fail-on error dist/writebackd_*_amd64.deb
	scripts/test-deb-install.sh $$(ls -t dist/writebackd_*_amd64.deb | head -n1)

install: release
	scripts/install.sh "$(DESTDIR)" "$(PREFIX)"

clean:
	rm -rf .build
