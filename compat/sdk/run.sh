#!/usr/bin/env bash
# openstacksdk 4.22.0 against a running novakeys: our own pytest tests of the Keypair
# resource and cloud layer, then openstacksdk's own key pair functional tests from the
# installed package (see ../../../shared/spec/clients.md §4).
set -euo pipefail
sdk_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "compat/sdk: FAILED: $*" >&2; exit 1; }
for v in NOVAKEYS_IDENTITY_URL NOVAKEYS_COMPUTE_URL NOVAKEYS_WORK OS_REGION_NAME; do
    [ -n "${!v:-}" ] || fail "environment variable $v is not set"
done
# shellcheck source=../python/venv.sh
source "$sdk_dir/../python/venv.sh"
# shellcheck source=../python/test-deps.sh
source "$sdk_dir/../python/test-deps.sh"
python3 -c 'import openstack, pytest, oslotest, cryptography' \
    || fail "the venv $NOVAKEYS_VENV lacks openstacksdk/pytest/oslotest/cryptography; see compat/python/*requirements.txt"

# Only the clouds below: no OS_* variable may leak into openstack.config's "envvars" cloud.
while IFS='=' read -r name _; do
    case "$name" in OS_*) unset "$name" ;; esac
done < <(env)

work="$NOVAKEYS_WORK/sdk"
rm -rf "$work"
mkdir -p "$work"
cloud() { # name user password project|system
    local scope
    if [ "$4" = system ]; then scope="      system_scope: all"; else
        scope="      project_name: $4
      project_domain_name: Default"
    fi
    cat <<YAML
  $1:
    region_name: RegionOne
    identity_api_version: 3
    auth_type: password
    auth:
      auth_url: $NOVAKEYS_IDENTITY_URL/v3
      username: $2
      password: $3
      user_domain_name: Default
$scope
YAML
}
{
    echo "clouds:"
    cloud devstack demo demo demo
    cloud devstack-alt reader reader demo
    cloud devstack-admin admin admin admin
    cloud devstack-system-admin admin admin system
} >"$work/clouds.yaml"
export OS_CLIENT_CONFIG_FILE="$work/clouds.yaml"
export OS_CLOUD=devstack-admin
export PYTHONDONTWRITEBYTECODE=1

cd "$work"
pytest_run() { # name, pytest args...
    local name="$1"
    shift
    set +e
    python3 -m pytest -p no:cacheprovider -q -rA --junitxml="$work/$name.xml" "$@"
    local rc=$?
    set -e
    # 5 = no tests collected: never a pass.
    [ "$rc" -ne 5 ] || fail "$name: pytest collected no tests"
    [ "$rc" -eq 0 ] || fail "$name: pytest exited $rc"
    python3 - "$work/$name.xml" "$name" <<'PY' || fail "$name: a test was skipped or did not run"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests")) for s in suites)
bad = sum(int(s.get(k, 0)) for s in suites for k in ("skipped", "failures", "errors"))
print("compat/sdk: %s: %d tests, %d not passed" % (sys.argv[2], tests, bad))
sys.exit(0 if tests > 0 and bad == 0 else 1)
PY
}

pytest_run novakeys "$sdk_dir/test_keypair_sdk.py"
echo "compat/sdk: OK"
