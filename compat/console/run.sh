#!/usr/bin/env bash
# The web console in a real browser: playwright-core (npm, pinned in package-lock.json)
# driving Debian's Chromium headless through every flow of issue 21 (suite.mjs).
#
# Installs, once and cached:
#   - Debian packages `chromium` and `fonts-noto-cjk` (apt-get update + install, under the
#     apt flock the other suites share; the font makes the zh-TW screenshot show its text);
#   - npm `playwright-core` 1.65.1 into $NOVAKEYS_CACHE/node-console-<hash of package*.json>.
#
# Run by tests/compat.rs (`cargo test --test compat console`), which starts a fresh novakeys
# and sets NOVAKEYS_CONSOLE_URL, NOVAKEYS_IDENTITY_URL, NOVAKEYS_COMPUTE_URL, NOVAKEYS_WORK
# and NOVAKEYS_CACHE. Screenshots go to $NOVAKEYS_WORK/console/screenshots (and to
# $CONSOLE_SCREENSHOTS when set: that is how docs/console/ is refreshed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
fail() { echo "compat/console: FAILED: $*" >&2; exit 1; }
for v in NOVAKEYS_CONSOLE_URL NOVAKEYS_IDENTITY_URL NOVAKEYS_COMPUTE_URL NOVAKEYS_WORK; do
    [ -n "${!v:-}" ] || fail "environment variable $v is not set (tests/compat.rs sets it)"
done
need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' not found; install it ($2)"; }
need node "apt-get install nodejs"
need npm "apt-get install npm"
need ssh-keygen "apt-get install openssh-client"
need openssl "apt-get install openssl"
need curl "apt-get install curl"
need flock "apt-get install util-linux"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
cache="${NOVAKEYS_CACHE:-$repo/target/compat}"
mkdir -p "$cache"

# Debian's Chromium and a CJK font.
if ! dpkg -s chromium fonts-noto-cjk >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
    echo "compat/console: installing Debian packages chromium fonts-noto-cjk (apt-get update; apt-get install -y chromium fonts-noto-cjk)"
    flock "$cache/apt.lock" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium fonts-noto-cjk' >&2 ||
        fail "could not install chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)"
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (apt-get install chromium)"

# playwright-core, cached by the hash of package.json + package-lock.json.
hash="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-12)"
node_dir="$cache/node-console-$hash"
(
    exec 9>"$cache/node.lock"
    flock 9
    if [ ! -f "$node_dir/.complete" ]; then
        echo "compat/console: installing npm playwright-core (compat/console/package-lock.json) into $node_dir" >&2
        rm -rf "$node_dir"
        mkdir -p "$node_dir"
        cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
        (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
            fail "npm ci could not install compat/console/package-lock.json"
        touch "$node_dir/.complete"
    fi
) || exit 1
[ -f "$node_dir/node_modules/playwright-core/index.mjs" ] || fail "$node_dir lacks playwright-core"
echo "compat/console: browser $(/usr/bin/chromium --version 2>/dev/null | head -1) (Debian chromium $(dpkg-query -W -f='${Version}' chromium), fonts-noto-cjk $(dpkg-query -W -f='${Version}' fonts-noto-cjk)); npm playwright-core $(node -p "require('$node_dir/node_modules/playwright-core/package.json').version") in $node_dir"

status="$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' \
    "$NOVAKEYS_CONSOLE_URL/_novakeys/reset" || true)"
[ "$status" = 204 ] || fail "POST $NOVAKEYS_CONSOLE_URL/_novakeys/reset answered '$status', expected 204: is the console listening?"

work="$NOVAKEYS_WORK/console"
rm -rf "$work"
mkdir -p "$work"
export CONSOLE_WORK="$work" CONSOLE_NODE_DIR="$node_dir"
exec node "$here/suite.mjs"
