# shellcheck shell=bash
# Source me (after venv.sh): checks the tools the OSC-driven suites need, writes
# $NOVAKEYS_WORK/clouds.yaml with one cloud per fixture user and points OSC at it.
#
#   demo   - demo/demo, member of project demo
#   reader - reader/reader, reader on project demo
#   admin  - admin/admin, admin of project admin
#
# Needs the environment tests/compat.rs provides: OS_AUTH_URL, OS_REGION_NAME, NOVAKEYS_WORK.

: "${OS_AUTH_URL:?set by tests/compat.rs (the identity URL ending in /v3)}"
: "${OS_REGION_NAME:?set by tests/compat.rs}"
: "${NOVAKEYS_WORK:?set by tests/compat.rs (a scratch directory)}"

need() {
    local tool="$1" package="$2"
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "compat: FAILED: '$tool' not found; install it (apt-get install $package)" >&2
        exit 1
    fi
}
need ssh-keygen openssh-client
need openstack "python-openstackclient (compat/python/venv.sh should have installed it)"

export OS_CLIENT_CONFIG_FILE="$NOVAKEYS_WORK/clouds.yaml"
# Nothing but the clouds.yaml picks the cloud.
unset OS_CLOUD
# keystoneauth/OSC warnings about e.g. 2.latest go to stderr; keep them readable.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

# write_cloud NAME USER PASSWORD PROJECT
write_cloud() {
    cat >>"$OS_CLIENT_CONFIG_FILE" <<EOF
  $1:
    region_name: $OS_REGION_NAME
    auth:
      auth_url: $OS_AUTH_URL
      username: $2
      password: $3
      project_name: $4
      user_domain_name: Default
      project_domain_name: Default
EOF
}

echo "clouds:" >"$OS_CLIENT_CONFIG_FILE"
write_cloud demo demo demo demo
write_cloud reader reader reader demo
write_cloud admin admin admin admin

# json_get FIELD: FIELD of the JSON object on stdin (empty for null).
json_get() {
    python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else v)' "$1"
}

# md5_fingerprint FILE: the MD5 fingerprint ssh-keygen computes, without "MD5:".
md5_fingerprint() {
    ssh-keygen -l -E md5 -f "$1" | awk '{print $2}' | sed 's/^MD5://'
}
