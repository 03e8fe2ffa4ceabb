# shellcheck shell=bash
# Source me: cached installs for the Tencent suite, like compat/python/venv.sh does it.
#
#   tencent_venv NAME REQUIREMENTS   creates (once) $cache/venv-tencent-NAME-<hash of the file>,
#                                    prints its path on stdout
#   tencent_node                     installs package.json/package-lock.json (once) into
#                                    $cache/node-tencent-<hash of both>, prints its path
#
# Cache: $NOVAKEYS_CACHE (default <repo>/target/compat). Installs run under one flock per
# cache, so parallel suites wait for one another; a finished install is marked `.complete`.
# Every missing prerequisite is a failure that names what to install.

tencent_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tencent_repo="$(cd "$tencent_dir/../.." && pwd)"
tencent_cache="${NOVAKEYS_CACHE:-$tencent_repo/target/compat}"
mkdir -p "$tencent_cache"

tencent_fail() {
    echo "compat/tencent: FAILED: $*" >&2
    exit 1
}

tencent_venv() {
    local name="$1" req="$2" hash venv
    hash="$(sha256sum "$req" | cut -c1-12)"
    venv="$tencent_cache/venv-tencent-$name-$hash"
    (
        exec 9>"$tencent_cache/venv.lock"
        flock 9
        if [ ! -f "$venv/.complete" ]; then
            if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
                echo "compat/tencent: python3 venv support missing; installing python3-venv" >&2
                flock "$tencent_cache/apt.lock" sh -c 'apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 python3-venv' >&2 ||
                    tencent_fail "cannot create a Python venv; install python3-venv (apt-get install python3-venv)"
            fi
            echo "compat/tencent: installing $(grep -v '^#' "$req" | head -2 | tr '\n' ' ')... into $venv" >&2
            rm -rf "$venv"
            python3 -m venv "$venv" >&2 || tencent_fail "python3 -m venv $venv failed"
            "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2 ||
                tencent_fail "pip could not install $req"
            touch "$venv/.complete"
        fi
    ) || exit 1
    echo "$venv"
}

tencent_node() {
    local hash dir
    command -v node >/dev/null 2>&1 || tencent_fail "'node' not found; install Node.js (apt-get install nodejs npm)"
    command -v npm >/dev/null 2>&1 || tencent_fail "'npm' not found; install it (apt-get install npm)"
    hash="$(cat "$tencent_dir/package.json" "$tencent_dir/package-lock.json" | sha256sum | cut -c1-12)"
    dir="$tencent_cache/node-tencent-$hash"
    (
        exec 9>"$tencent_cache/node.lock"
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            echo "compat/tencent: installing npm tencentcloud-sdk-nodejs-cvm (package-lock.json) into $dir" >&2
            rm -rf "$dir"
            mkdir -p "$dir"
            cp "$tencent_dir/package.json" "$tencent_dir/package-lock.json" "$dir/"
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
                tencent_fail "npm ci could not install compat/tencent/package-lock.json"
            touch "$dir/.complete"
        fi
    ) || exit 1
    echo "$dir"
}
