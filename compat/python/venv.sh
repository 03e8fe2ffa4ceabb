#!/usr/bin/env bash
# Source me: creates (once) and activates the cached venv with the pinned stock clients.
# Cache: $NOVAKEYS_CACHE (default <repo>/target/compat)/venv-<hash of requirements.txt>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${NOVAKEYS_CACHE:-$repo/target/compat}"
req="$here/requirements.txt"
hash="$(sha256sum "$req" | cut -c1-12)"
venv="$cache/venv-$hash"
mkdir -p "$cache"
# Suites run in parallel: one installs, the others wait for it.
exec 9>"$cache/venv.lock"
flock 9
if [ ! -x "$venv/bin/openstack" ] || [ ! -f "$venv/.complete" ]; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        echo "compat: python3 venv support missing; installing python3-venv" >&2
        # apt is shared with the other suites' installs: take their lock too.
        flock "$cache/apt.lock" sh -c 'apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 python3-venv' >&2 || {
            echo "compat: FAILED: cannot create a Python venv; install python3-venv (apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2 || {
        echo "compat: FAILED: pip could not install $req" >&2
        exit 1
    }
    touch "$venv/.complete"
fi
flock -u 9
export PATH="$venv/bin:$PATH"
export NOVAKEYS_VENV="$venv"
