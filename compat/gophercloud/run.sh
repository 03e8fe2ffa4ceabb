#!/usr/bin/env bash
# gophercloud (the Go SDK under the Terraform OpenStack provider) against novakeys, and the Go
# helper go/novakeystest that starts that server.
#
# Run from the repo root with NOVAKEYS_BIN (or novakeys on PATH), NOVAKEYS_CACHE and
# NOVAKEYS_WORK set (see tests/compat.rs). Both test packages start their own servers through
# go/novakeystest (every front on 127.0.0.1:0, --db :memory:, the default fixtures, Keystone
# auth); the server the harness starts is not used. Exit 0 = every test passed: first
# go/novakeystest's own test, then the gophercloud suite.
#
# Toolchain: Debian's Go and Debian's gophercloud + x/crypto sources, in GOPATH mode, no module
# downloads. Missing packages are installed with apt-get (as root), serialised with the other
# suites by flock on $NOVAKEYS_CACHE/apt.lock.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

fail() {
    echo "compat/gophercloud: FAILED: $*" >&2
    exit 1
}

if [ -z "${NOVAKEYS_BIN:-}" ] && ! command -v novakeys >/dev/null 2>&1; then
    fail "NOVAKEYS_BIN is not set and there is no novakeys on PATH (run via tests/compat.rs, or export NOVAKEYS_BIN=$repo/target/debug/novakeys after cargo build)"
fi
cache="${NOVAKEYS_CACHE:-$repo/target/compat}"
work="${NOVAKEYS_WORK:-}"
if [ -z "$work" ]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$cache" "$work"

# --- toolchain ---------------------------------------------------------------------------
gopath=/usr/share/gocode
gc_src="$gopath/src/github.com/gophercloud/gophercloud"
debs=(golang-go golang-github-gophercloud-gophercloud-dev golang-golang-x-crypto-dev)

have_toolchain() {
    command -v go >/dev/null 2>&1 &&
        [ -f "$gc_src/openstack/compute/v2/extensions/keypairs/requests.go" ] &&
        [ -f "$gopath/src/golang.org/x/crypto/ssh/keys.go" ]
}

if ! have_toolchain; then
    # Other suites may be running apt-get too: one at a time, and re-check under the lock.
    exec 8>"$cache/apt.lock"
    flock 8
    if ! have_toolchain; then
        echo "compat/gophercloud: installing ${debs[*]}" >&2
        if ! command -v apt-get >/dev/null 2>&1; then
            fail "no apt-get; install the Debian packages ${debs[*]} (Go, gophercloud v0/v1 sources at $gc_src, golang.org/x/crypto)"
        fi
        # Also wait for dpkg's own lock, should something not using apt.lock hold it.
        apt_opts=(-o DPkg::Lock::Timeout=300)
        (DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq "${debs[@]}") >&2 ||
            fail "apt-get could not install ${debs[*]}; install them (apt-get install -y ${debs[*]})"
    fi
    flock -u 8
    exec 8>&-
    have_toolchain || fail "after installing ${debs[*]}: go, $gc_src/openstack/compute/v2/extensions/keypairs or golang.org/x/crypto/ssh still missing (this suite is written against Debian's gophercloud 0.x import path github.com/gophercloud/gophercloud)"
fi

# GOPATH mode against Debian's sources and our own helper only: no modules, no proxy, no
# network. The helper's import path is novakeys/novakeystest (its go.mod's module path), laid
# out in a GOPATH of the work directory, ahead of Debian's.
own_gopath="$work/gopath"
helper="$own_gopath/src/novakeys/novakeystest"
rm -rf "$own_gopath"
mkdir -p "$helper"
cp "$repo"/go/novakeystest/*.go "$helper/"
export GO111MODULE=off
export GOPATH="$own_gopath:$gopath"
export GOCACHE="$cache/go-build"
export GOPROXY=off
export GOFLAGS=
export GOENV=off
export GOTOOLCHAIN=local
export CGO_ENABLED=0
mkdir -p "$GOCACHE"

echo "compat/gophercloud: $(go version); gophercloud from Debian $(dpkg-query -W -f '${Version}' golang-github-gophercloud-gophercloud-dev 2>/dev/null || echo '?')" >&2

# --- go/novakeystest's own test ------------------------------------------------------------
echo "compat/gophercloud: go test novakeys/novakeystest" >&2
(cd "$helper" && go vet . && go test -v -count=1 -timeout 120s .)

# --- the gophercloud suite -------------------------------------------------------------------
# Built outside the repo so nothing is written into the tree.
pkg="$own_gopath/src/novakeys/compat/gophercloud"
mkdir -p "$pkg"
cp "$here"/*_test.go "$pkg/"
cd "$pkg"
echo "compat/gophercloud: go test novakeys/compat/gophercloud" >&2
go test -v -count=1 -timeout 300s .
