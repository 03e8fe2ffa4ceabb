#!/usr/bin/env bash
# Tencent Cloud CVM key pair API (2017-03-12) through its stock clients, each unmodified and
# pointed at novakeys' Tencent listener by the client's own documented options:
#
#   1. tencentcloud-sdk-python (split common + cvm packages), test_sdk.py under pytest, in five
#      modes: TC3 POST JSON, TC3 GET, legacy HmacSHA256 POST and GET, HmacSHA1 POST
#   2. tencentcloud-sdk-nodejs-cvm (npm, package-lock.json), node_sdk.js: create/describe/delete
#   3. tccli (own venv: it needs the monolithic SDK), tccli.sh, with a throwaway HOME and
#      `--endpoint http://127.0.0.1:PORT`
#   4. cross-front: tccli + the stock `openstack` CLI as the same user, crossfront.sh
#
# Run by tests/compat.rs (`cargo test`), which starts a fresh novakeys and sets
# NOVAKEYS_TENCENT_URL, NOVAKEYS_WORK, NOVAKEYS_CACHE, OS_AUTH_URL, OS_REGION_NAME.
# Wire facts: ../../../shared/spec/seed-clouds.md §2. Every part runs; exit 0 only if all pass.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "compat/tencent: FAILED: $*" >&2; exit 1; }
for v in NOVAKEYS_TENCENT_URL NOVAKEYS_WORK OS_AUTH_URL OS_REGION_NAME; do
    [ -n "${!v:-}" ] || fail "environment variable $v is not set (tests/compat.rs sets it)"
done
need() { command -v "$1" >/dev/null 2>&1 || fail "'$1' not found; install it ($2)"; }
need python3 "apt-get install python3 python3-venv"
need jq "apt-get install jq"
need curl "apt-get install curl"
need ssh-keygen "apt-get install openssh-client"
need node "apt-get install nodejs"
need npm "apt-get install npm"

# Only novakeys is spoken to: no proxy may catch 127.0.0.1.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE=1
export NOVAKEYS_TENCENT_URL="${NOVAKEYS_TENCENT_URL%/}"

# shellcheck source=compat/tencent/env.sh
source "$here/env.sh"
echo "compat/tencent: clients: tencentcloud-sdk-python-common 3.1.195 + -cvm 3.1.178 (pip), tccli 3.1.189.1 + tencentcloud-sdk-python 3.1.195 (pip), tencentcloud-sdk-nodejs-cvm 4.1.316 (npm); cache $tencent_cache"
SDK_VENV="$(tencent_venv sdk "$here/requirements-sdk.txt")"
TCCLI_VENV="$(tencent_venv tccli "$here/requirements-tccli.txt")"
NODE_DIR="$(tencent_node)"
"$SDK_VENV/bin/python" -c 'import tencentcloud.cvm.v20170312, pytest' ||
    fail "$SDK_VENV lacks tencentcloud-sdk-python-cvm/pytest; see compat/tencent/requirements-sdk.txt"
[ -x "$TCCLI_VENV/bin/tccli" ] || fail "$TCCLI_VENV has no tccli; see compat/tencent/requirements-tccli.txt"
[ -d "$NODE_DIR/node_modules/tencentcloud-sdk-nodejs-cvm" ] || fail "$NODE_DIR lacks tencentcloud-sdk-nodejs-cvm"
export TCCLI="$TCCLI_VENV/bin/tccli"

work="$NOVAKEYS_WORK/tencent"
rm -rf "$work"
mkdir -p "$work"

status="$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' \
    "$NOVAKEYS_TENCENT_URL/_novakeys/reset" || true)"
[ "$status" = 204 ] || fail "POST $NOVAKEYS_TENCENT_URL/_novakeys/reset answered '$status', expected 204: is the Tencent front listening?"

failed=()
part() { # NAME CMD...
    local name="$1"
    shift
    printf '\n==== compat/tencent: %s\n' "$name"
    if "$@"; then
        printf '==== compat/tencent: %s: passed\n' "$name"
    else
        printf '==== compat/tencent: %s: FAILED\n' "$name"
        failed+=("$name")
    fi
}

pytest_part() {
    local rc=0 expected=81
    (cd "$work" && "$SDK_VENV/bin/python" -m pytest -p no:cacheprovider -W ignore -q -rfEsxX \
        --junitxml="$work/sdk.xml" "$here/test_sdk.py") || rc=$?
    [ "$rc" -ne 5 ] || { echo "pytest collected no tests"; return 1; }
    "$SDK_VENV/bin/python" - "$work/sdk.xml" "$expected" <<'PY' || return 1
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests")) for s in suites)
bad = sum(int(s.get(k, 0)) for s in suites for k in ("skipped", "failures", "errors"))
print("compat/tencent: python sdk: %d tests (expected %s), %d not passed" % (tests, sys.argv[2], bad))
sys.exit(0 if tests == int(sys.argv[2]) and bad == 0 else 1)
PY
    return "$rc"
}

part "tencentcloud-sdk-python (TC3 POST/GET, HmacSHA256 POST/GET, HmacSHA1)" pytest_part
part "tencentcloud-sdk-nodejs-cvm (TC3 POST/GET)" env NODE_PATH="$NODE_DIR/node_modules" node "$here/node_sdk.js"
part "tccli" bash "$here/tccli.sh"
part "cross-front (tccli + openstack CLI)" bash "$here/crossfront.sh"

echo
if [ "${#failed[@]}" -ne 0 ]; then
    echo "compat/tencent: FAILED parts: ${failed[*]}"
    exit 1
fi
echo "compat/tencent: OK"
