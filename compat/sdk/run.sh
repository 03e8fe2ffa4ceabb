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
# shellcheck source=compat/python/venv.sh
source "$sdk_dir/../python/venv.sh"
# shellcheck source=compat/python/test-deps.sh
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
pytest_run() { # name, expected number of tests, pytest args...
    local name="$1" expected="$2"
    shift 2
    set +e
    python3 -m pytest -p no:cacheprovider -W ignore -q -rfEsxX --junitxml="$work/$name.xml" "$@"
    local rc=$?
    set -e
    # 5 = no tests collected: never a pass.
    [ "$rc" -ne 5 ] || fail "$name: pytest collected no tests"
    [ "$rc" -eq 0 ] || fail "$name: pytest exited $rc"
    python3 - "$work/$name.xml" "$name" "$expected" <<'PY' || fail "$name: a test was skipped or did not run"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests")) for s in suites)
bad = sum(int(s.get(k, 0)) for s in suites for k in ("skipped", "failures", "errors"))
print("compat/sdk: %s: %d tests, %d not passed" % (sys.argv[2], tests, bad))
if tests != int(sys.argv[3]):
    print("compat/sdk: %s: expected %s tests" % (sys.argv[2], sys.argv[3]))
sys.exit(0 if tests == int(sys.argv[3]) and bad == 0 else 1)
PY
}

pytest_run novakeys 11 "$sdk_dir/test_keypair_sdk.py"

# openstacksdk's own key pair functional tests, from the installed package, unmodified.
# Their base class also wants a flavor, an image and a block-storage v3 endpoint, none of
# which a key pair emulator has or the key pair tests use: nk_upstream_preconditions.py
# answers the flavor/image probes, and a block-storage override that is never contacted
# (port 9, with its version given so no discovery runs) answers the third.
sed 's|^    identity_api_version: 3$|&\n    block_storage_endpoint_override: http://127.0.0.1:9/v3\n    block_storage_api_version: 3|' \
    "$work/clouds.yaml" >"$work/upstream-clouds.yaml"
grep -q block_storage_api_version "$work/upstream-clouds.yaml" || fail "could not write upstream-clouds.yaml"
OS_CLIENT_CONFIG_FILE="$work/upstream-clouds.yaml" PYTHONPATH="$sdk_dir" \
    pytest_run upstream 4 -p nk_upstream_preconditions --pyargs \
    openstack.tests.functional.compute.v2.test_keypair \
    openstack.tests.functional.cloud.test_compute::TestKeypairs
echo "compat/sdk: OK"
