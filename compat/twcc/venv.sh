#!/usr/bin/env bash
# Source me: creates (once) the cached venv holding twcc-cli 0.6.1 from PyPI, unmodified, with
# every dependency pinned in requirements.txt, and exports TWCC_VENV. The venv is never changed
# afterwards (no TWCC_API.yaml edit in it), so suites running in parallel against servers on
# different ports share it; cli.sh gives each run its own copy of the twccli package instead.
# Cache: $NOVAKEYS_CACHE (default <repo>/target/compat)/venv-twcc-<hash of requirements.txt>.
set -euo pipefail
_tv_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_tv_repo="$(cd "$_tv_here/../.." && pwd)"
_tv_cache="${NOVAKEYS_CACHE:-$_tv_repo/target/compat}"
_tv_req="$_tv_here/requirements.txt"
TWCC_VENV="$_tv_cache/venv-twcc-$(sha256sum "$_tv_req" | cut -c1-12)"
mkdir -p "$_tv_cache"
echo "compat/twcc: twcc-cli 0.6.1 from PyPI (pinned: $_tv_req) in $TWCC_VENV" >&2
# Suites run in parallel: one installs, the others wait for it.
exec 7>"$_tv_cache/venv-twcc.lock"
flock 7
if [ ! -x "$TWCC_VENV/bin/twccli" ] || [ ! -f "$TWCC_VENV/.complete" ]; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        echo "compat/twcc: python3 venv support missing; installing python3-venv" >&2
        flock "$_tv_cache/apt.lock" sh -c 'apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 python3-venv' >&2 || {
            echo "compat/twcc: FAILED: cannot create a Python venv; install python3-venv (apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    rm -rf "$TWCC_VENV"
    python3 -m venv "$TWCC_VENV" >&2
    "$TWCC_VENV/bin/pip" install -q --disable-pip-version-check -r "$_tv_req" >&2 || {
        echo "compat/twcc: FAILED: pip could not install $_tv_req" >&2
        exit 1
    }
    touch "$TWCC_VENV/.complete"
fi
flock -u 7
exec 7>&-
export TWCC_VENV
unset _tv_here _tv_repo _tv_cache _tv_req
