#!/usr/bin/env bash
# Alibaba Cloud ECS key pair API (2014-05-26) through its stock, unmodified clients, against the
# novakeys Alibaba front ($NOVAKEYS_ALIBABA_URL):
#   - Tea SDK alibabacloud-ecs20140526, ACS3-HMAC-SHA256 (default) and RPC HMAC-SHA1
#     (signature_algorithm='v2'); legacy aliyun-python-sdk-ecs + aliyun-python-sdk-core:
#     every operation and error, signatures, isolation (ecs_suite.py);
#   - cross-front with Nova through the stock `openstack` CLI (ecs_suite.py, test_crossfront);
#   - Node.js SDK @alicloud/ecs20140526: create/describe/delete (node/ecs_node_test.js).
# Installs (cached, under a lock): requirements.txt into $NOVAKEYS_CACHE/venv-alibaba-<hash>,
# node/package-lock.json into $NOVAKEYS_CACHE/node-alibaba-<hash>, and the shared OpenStack
# client venv through compat/python/venv.sh.
set -euo pipefail
# (names prefixed ali_: compat/python/venv.sh, sourced below, sets here/repo/cache/venv itself)
ali_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ali_repo="$(cd "$ali_dir/../.." && pwd)"
SUITE=compat/alibaba
die() { echo "$SUITE: FAILED: $*" >&2; exit 1; }
for v in NOVAKEYS_ALIBABA_URL NOVAKEYS_WORK OS_AUTH_URL OS_REGION_NAME; do
    [ -n "${!v:-}" ] || die "environment variable $v is not set (tests/compat.rs provides it)"
done
command -v python3 >/dev/null || die "python3 not found; install it (apt-get install python3 python3-venv)"
command -v node >/dev/null || die "node not found; install it (apt-get install nodejs)"
command -v npm >/dev/null || die "npm not found; install it (apt-get install npm)"
command -v ssh-keygen >/dev/null || die "ssh-keygen not found; install it (apt-get install openssh-client)"
command -v flock >/dev/null || die "flock not found; install it (apt-get install util-linux)"

ali_cache="${NOVAKEYS_CACHE:-$ali_repo/target/compat}"
mkdir -p "$ali_cache"

# --- the Python clients: one venv per version of requirements.txt -------------------------------
ali_req="$ali_dir/requirements.txt"
ali_venv="$ali_cache/venv-alibaba-$(sha256sum "$ali_req" | cut -c1-12)"
echo "$SUITE: Python clients: alibabacloud-ecs20140526, aliyun-python-sdk-ecs/-core (pinned in requirements.txt) -> $ali_venv"
exec 7>"$ali_cache/venv.lock"
flock 7
if [ ! -x "$ali_venv/bin/python" ] || [ ! -f "$ali_venv/.complete" ]; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        echo "$SUITE: python3 venv support missing; installing python3-venv" >&2
        flock "$ali_cache/apt.lock" sh -c 'apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 python3-venv' >&2 \
            || die "cannot create a Python venv; install python3-venv (apt-get install python3-venv)"
    fi
    rm -rf "$ali_venv"
    python3 -m venv "$ali_venv" >&2
    "$ali_venv/bin/pip" install -q --disable-pip-version-check -r "$ali_req" >&2 || die "pip could not install $ali_req"
    touch "$ali_venv/.complete"
fi
flock -u 7
exec 7>&-
"$ali_venv/bin/python" -c 'import alibabacloud_ecs20140526, alibabacloud_tea_openapi, aliyunsdkcore, aliyunsdkecs, cryptography' \
    || die "the venv $ali_venv lacks the Alibaba clients; delete it and rerun"

# --- the Node.js SDK: one npm tree per version of package.json + package-lock.json ---------------
node_hash="$(cat "$ali_dir/node/package.json" "$ali_dir/node/package-lock.json" | sha256sum | cut -c1-12)"
node_dir="$ali_cache/node-alibaba-$node_hash"
echo "$SUITE: Node.js client: @alicloud/ecs20140526 (pinned in node/package-lock.json) -> $node_dir"
exec 7>"$ali_cache/node.lock"
flock 7
if [ ! -f "$node_dir/.complete" ]; then
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp "$ali_dir/node/package.json" "$ali_dir/node/package-lock.json" "$node_dir/"
    # --ignore-scripts: the one install script in the tree (@alicloud/openapi-core's) only
    # installs an older TypeScript on Node 10/12.
    # In the directory itself: npm 11's `ci --prefix DIR` takes DIR's name for the root
    # package and then finds the lock file out of sync.
    (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 \
        || die "npm could not install $ali_dir/node/package-lock.json"
    touch "$node_dir/.complete"
fi
flock -u 7
exec 7>&-

# --- the openstack CLI for the cross-front checks (shared venv) ----------------------------------
echo "$SUITE: openstack CLI for the cross-front checks: compat/python/venv.sh"
# shellcheck source=compat/python/venv.sh
source "$ali_repo/compat/python/venv.sh"
# shellcheck source=compat/python/cloud.sh
source "$ali_repo/compat/python/cloud.sh"
# shellcheck source=compat/python/check.sh
source "$ali_repo/compat/python/check.sh"

# Both Python SDKs send to a proxy from HTTP(S)_PROXY even for 127.0.0.1 (the legacy core passes
# proxies explicitly, so NO_PROXY does not help): talk to the local server directly.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY
export PYTHONDONTWRITEBYTECODE=1 PYTHONWARNINGS=ignore

section "Python clients (tea-acs3, tea-rpc, legacy) and cross-front"
set +e
(cd "$ali_dir" && "$ali_venv/bin/python" ecs_suite.py "$NOVAKEYS_ALIBABA_URL")
rc=$?
set -e
assert_eq "ecs_suite.py: every check passed" "$rc" 0

section "Node.js client"
set +e
NODE_PATH="$node_dir/node_modules" node "$ali_dir/node/ecs_node_test.js" "$NOVAKEYS_ALIBABA_URL"
rc=$?
set -e
assert_eq "node/ecs_node_test.js: every check passed" "$rc" 0

finish "$SUITE"
