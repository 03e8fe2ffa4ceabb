#!/usr/bin/env bash
# Stock tempest 47.0.0 key pair API tests against a running novakeys (see
# ../../../shared/spec/clients.md §5). Every selected test must pass; a skip fails the suite.
set -euo pipefail
tempest_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "compat/tempest: FAILED: $*" >&2; exit 1; }
for v in NOVAKEYS_IDENTITY_URL NOVAKEYS_COMPUTE_URL NOVAKEYS_WORK OS_REGION_NAME; do
    [ -n "${!v:-}" ] || fail "environment variable $v is not set"
done
# shellcheck source=compat/python/venv.sh
source "$tempest_dir/../python/venv.sh"
command -v tempest >/dev/null || fail "tempest is not in the venv ($NOVAKEYS_VENV); pip install -r compat/python/requirements.txt"

ws="$NOVAKEYS_WORK/tempest"
rm -rf "$ws"
# tempest creates ~/.tempest: keep it inside the work directory.
export HOME="$NOVAKEYS_WORK/tempest-home"
mkdir -p "$HOME"
# A workspace registry of our own: never touch ~/.tempest of whoever runs the tests.
tempest init --workspace-path "$NOVAKEYS_WORK/tempest-workspaces.yaml" --name "novakeys-$$" "$ws" >/dev/null 2>&1 \
    || fail "tempest init $ws"

# The three accounts of fixtures/default.yaml (one per credential type tempest locks).
cat >"$ws/etc/accounts.yaml" <<YAML
- username: demo
  project_name: demo
  password: demo
  roles: [member]
- username: reader
  project_name: demo
  password: reader
  roles: [reader]
- username: admin
  project_name: admin
  password: admin
  types: [admin]
YAML

cat >"$ws/etc/tempest.conf" <<CONF
[DEFAULT]
log_dir = $ws/logs
log_file = tempest.log

[auth]
use_dynamic_credentials = false
test_accounts_file = $ws/etc/accounts.yaml

[identity]
uri_v3 = $NOVAKEYS_IDENTITY_URL/v3
auth_version = v3
region = $OS_REGION_NAME

[identity-feature-enabled]
api_v2 = false

[compute]
min_microversion = 2.1
max_microversion = latest

[service_available]
nova = true
cinder = false
glance = false
neutron = false
swift = false

[validation]
run_validation = false

[oslo_concurrency]
lock_path = $ws/tempest_lock
CONF

export TEMPEST_CONFIG_DIR="$ws/etc" TEMPEST_CONFIG=tempest.conf
cd "$ws"
regex='^tempest\.api\.compute\.(keypairs\.|admin\.test_keypairs_v210)'
# --serial: the accounts file holds exactly one set of member/reader/admin accounts.
set +e
tempest run --serial --regex "$regex"
rc=$?
set -e

# Independent of tempest's own exit status: every test must have passed, none skipped.
stestr last --subunit >"$NOVAKEYS_WORK/tempest.subunit" || fail "stestr last: no test run recorded"
python3 "$tempest_dir/check_subunit.py" "$NOVAKEYS_WORK/tempest.subunit" 19 \
    || fail "not every tempest test passed (tempest run exit status $rc)"
[ "$rc" -eq 0 ] || fail "tempest run exited $rc"
echo "compat/tempest: OK"
