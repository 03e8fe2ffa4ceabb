#!/usr/bin/env bash
# gophercloud (the Go SDK under the Terraform OpenStack provider) against a running novakeys.
#
# Run from the repo root with NOVAKEYS_IDENTITY_URL, NOVAKEYS_COMPUTE_URL, OS_AUTH_URL,
# OS_REGION_NAME, NOVAKEYS_CACHE and NOVAKEYS_WORK set (see tests/compat.rs), against a fresh
# server with the default fixtures and Keystone auth. Exit 0 = every test passed.
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

for v in NOVAKEYS_IDENTITY_URL NOVAKEYS_COMPUTE_URL OS_AUTH_URL OS_REGION_NAME; do
    [ -n "${!v:-}" ] || fail "$v is not set (run via tests/compat.rs, or export it for a running server)"
done
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

# GOPATH mode against Debian's sources only: no modules, no proxy, no network.
export GO111MODULE=off
export GOPATH="$gopath"
export GOCACHE="$cache/go-build"
export GOPROXY=off
export GOFLAGS=
export GOENV=off
export GOTOOLCHAIN=local
export CGO_ENABLED=0
mkdir -p "$GOCACHE"

# --- credentials (the default fixtures) ------------------------------------------------------
# The ordinary user, as the Terraform acceptance tests run (OS_USERNAME=demo); the admin for
# the user_id tests. Both may be overridden from the environment.
export OS_USERNAME="${OS_USERNAME:-demo}"
export OS_PASSWORD="${OS_PASSWORD:-demo}"
export OS_PROJECT_NAME="${OS_PROJECT_NAME:-demo}"
export OS_DOMAIN_NAME="${OS_DOMAIN_NAME:-Default}"
export NOVAKEYS_ADMIN_USERNAME="${NOVAKEYS_ADMIN_USERNAME:-admin}"
export NOVAKEYS_ADMIN_PASSWORD="${NOVAKEYS_ADMIN_PASSWORD:-admin}"
export NOVAKEYS_ADMIN_PROJECT_NAME="${NOVAKEYS_ADMIN_PROJECT_NAME:-admin}"

# Build outside the repo so nothing is written into the tree.
pkg="$work/gophercloud"
rm -rf "$pkg"
mkdir -p "$pkg"
cp "$here"/*_test.go "$pkg/"
cd "$pkg"

echo "compat/gophercloud: $(go version); gophercloud from Debian $(dpkg-query -W -f '${Version}' golang-github-gophercloud-gophercloud-dev 2>/dev/null || echo '?')" >&2
go test -v -count=1 -timeout 300s .
