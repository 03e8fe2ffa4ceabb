#!/usr/bin/env bash
# The stock `nova` CLI (python-novaclient 18.13.1) against a running novakeys: keypair-add,
# -list, -show and -delete at the negotiated microversion, min(2.96, server max) = 2.96,
# plus the 2.10 admin `--user` options. Every expectation is what real Nova answers
# (../../../shared/spec/clients.md §8, the captures).
set -euo pipefail
nc_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "compat/novaclient: FAILED: $*" >&2; exit 1; }
for v in NOVAKEYS_IDENTITY_URL NOVAKEYS_COMPUTE_URL NOVAKEYS_WORK OS_REGION_NAME; do
    [ -n "${!v:-}" ] || fail "environment variable $v is not set"
done
# shellcheck source=compat/python/venv.sh
source "$nc_dir/../python/venv.sh"
command -v nova >/dev/null || fail "nova (python-novaclient) is not in the venv $NOVAKEYS_VENV"

work="$NOVAKEYS_WORK/novaclient"
rm -rf "$work"
mkdir -p "$work"
cd "$work"

export OS_AUTH_URL="$NOVAKEYS_IDENTITY_URL/v3" OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
unset OS_COMPUTE_API_VERSION OS_CLOUD OS_TOKEN OS_AUTH_TYPE 2>/dev/null || true
as_demo() { OS_USERNAME=demo OS_PASSWORD=demo OS_PROJECT_NAME=demo "$@"; }
as_admin() { OS_USERNAME=admin OS_PASSWORD=admin OS_PROJECT_NAME=admin "$@"; }

steps=0
# run EXPECTED_RC CMD...: runs CMD, stdout to out, stderr to err; checks the exit status.
run() {
    local want="$1"
    shift
    steps=$((steps + 1))
    set +e
    "$@" >out 2>err
    local rc=$?
    set -e
    if [ "$rc" -ne "$want" ]; then
        echo "--- stdout:" >&2; cat out >&2; echo "--- stderr:" >&2; cat err >&2
        fail "step $steps: '$*' exited $rc, expected $want"
    fi
}
# has FILE FIXED-STRING: FILE contains the string.
has() {
    grep -qF -- "$2" "$1" || {
        echo "--- $1:" >&2; cat "$1" >&2
        fail "step $steps: $1 lacks: $2"
    }
}
lacks() {
    if grep -qF -- "$2" "$1"; then
        echo "--- $1:" >&2; cat "$1" >&2
        fail "step $steps: $1 unexpectedly contains: $2"
    fi
}
# Stdout holds nothing but what the command printed for the user (stderr has the
# deprecation notice).
empty_out() { [ ! -s out ] || { cat out >&2; fail "step $steps: expected no output on stdout"; }; }
md5fp() { # public key line -> colon-hex MD5 of its blob, as Nova computes it
    python3 -c 'import base64,hashlib,sys; d=hashlib.md5(base64.b64decode(sys.argv[1].split()[1])).hexdigest(); print(":".join(d[i:i+2] for i in range(0,32,2)))' "$1"
}
# table_value PROPERTY: the value column of a `nova ...-show` property table in out.
# list_row NAME: "col2 col3 ..." of the `nova keypair-list` row for NAME in out, trimmed.
list_row() { awk -F'|' -v n="$1" '{k=$2; gsub(/^ +| +$/,"",k); if (k==n) {r=""; for (i=3;i<NF;i++) {v=$i; gsub(/^ +| +$/,"",v); r=r (i>3?" ":"") v}; print r}}' out; }
expect_row() { # NAME EXPECTED
    [ "$(list_row "$1")" = "$2" ] || { cat out >&2; fail "step $steps: row $1 is '$(list_row "$1")', expected '$2'"; }
}
table_value() { awk -F'|' -v p="$1" '{k=$2; gsub(/^ +| +$/,"",k); if (k==p) {v=$3; gsub(/^ +| +$/,"",v); print v}}' out; }

# Keys made here, with a trailing newline (as ssh-keygen writes them).
python3 - <<'PY'
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
for name, key, comment in (
    ("ed25519.pub", ed25519.Ed25519PrivateKey.generate(), "ed@novaclient"),
    ("rsa.pub", rsa.generate_private_key(public_exponent=65537, key_size=2048), "rsa@novaclient"),
    ("ecdsa.pub", ec.generate_private_key(ec.SECP384R1()), "ec@novaclient"),
):
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    open(name, "w").write(line.decode() + " " + comment + "\n")
# A self-signed certificate for --key-type x509 (what Windows/WinRM users import).
import datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "novaclient")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256()))
open("cert.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
digest = cert.fingerprint(hashes.SHA1()).hex()
open("cert.fp", "w").write(":".join(digest[i:i + 2] for i in range(0, 40, 2)))
PY
printf 'ssh-rsa AAAA nope\n' >bad.pub

# Negotiation: GET /v2.1 with a token, then 2.96 in both headers, echoed by the server.
run 0 as_demo nova --debug keypair-list
has err "GET $NOVAKEYS_COMPUTE_URL/v2.1 "
has err '-H "OpenStack-API-Version: compute 2.96"'
has err '-H "X-OpenStack-Nova-API-Version: 2.96"'
has err 'openstack-api-version: compute 2.96'
has out '| Name | Type | Fingerprint |'

# keypair-add --pub-key FILE: imported verbatim, nothing printed.
run 0 as_demo nova keypair-add --pub-key ed25519.pub nc-ed25519
empty_out
has err 'nova CLI is deprecated'
run 0 as_demo nova keypair-add --pub-key rsa.pub nc-rsa
empty_out
run 0 as_demo nova keypair-add --pub-key - nc-ecdsa <ecdsa.pub
empty_out

# Without a key novaclient sends "public_key": null at 2.92+; Nova's schema rejects it.
run 1 as_demo nova keypair-add nc-gen
has err "ERROR (BadRequest): Invalid input for field/attribute public_key. Value: None. None is not of type 'string' (HTTP 400)"
empty_out
# Below 2.92 Nova still generates: the private key (RSA, PKCS#1 PEM) is printed.
run 0 as_demo nova --os-compute-api-version 2.91 keypair-add nc-gen
has out '-----BEGIN RSA PRIVATE KEY-----'
has out '-----END RSA PRIVATE KEY-----'
python3 -c 'import sys; from cryptography.hazmat.primitives import serialization as s; k=s.load_pem_private_key(open("out","rb").read().strip(), None); assert k.key_size == 2048' \
    || fail "the generated private key does not parse as RSA-2048"

# x509: a PEM certificate, fingerprinted by SHA-1 of its DER; an ssh key is not one.
run 0 as_demo nova keypair-add --key-type x509 --pub-key cert.pem nc-x509
empty_out
run 1 as_demo nova keypair-add --key-type x509 --pub-key rsa.pub nc-x509-bad
has err "ERROR (BadRequest): Keypair data is invalid: failed to generate X509 fingerprint."

run 1 as_demo nova keypair-add --pub-key ed25519.pub nc-ed25519
has err "ERROR (Conflict): Key pair 'nc-ed25519' already exists. (HTTP 409)"
run 1 as_demo nova keypair-add --pub-key bad.pub nc-bad
has err "ERROR (BadRequest): Keypair data is invalid: failed to generate fingerprint (HTTP 400)"
run 1 as_demo nova keypair-add --pub-key ed25519.pub 'a/b'
has err "ERROR (BadRequest): Invalid input for field/attribute name. Value: a/b. 'a/b' does not match"
run 1 as_demo nova keypair-add --pub-key no-such-file.pub nc-x
has err "ERROR (CommandError): Can't open or read 'no-such-file.pub'"

# keypair-list: Name | Type | Fingerprint, in name order.
run 0 as_demo nova keypair-list
for k in ed25519 rsa ecdsa; do
    expect_row "nc-$k" "ssh $(md5fp "$(cat $k.pub)")"
done
[[ "$(list_row nc-gen)" =~ ^ssh\ ([0-9a-f]{2}:){15}[0-9a-f]{2}$ ]] || fail "keypair-list: nc-gen row"
expect_row nc-x509 "x509 $(cat cert.fp)"
[ "$(grep -c '^| nc-' out)" -eq 5 ] || { cat out >&2; fail "keypair-list: expected 5 key pairs"; }
grep '^| nc-' out | awk -F'|' '{print $2}' | sort -c || fail "keypair-list is not sorted by name"
# --limit/--marker (2.35+)
run 0 as_demo nova keypair-list --limit 2 --marker nc-ecdsa
[ "$(grep '^| nc-' out | awk '{print $2}' | tr '\n' ' ')" = "nc-ed25519 nc-gen " ] \
    || { cat out >&2; fail "keypair-list --limit 2 --marker nc-ecdsa"; }

# keypair-show: the property table, then the public key verbatim.
run 0 as_demo nova keypair-show nc-rsa
for p in created_at deleted deleted_at fingerprint id name type updated_at user_id; do
    [ -n "$(table_value "$p")" ] || fail "keypair-show: no $p row"
done
[ "$(table_value name)" = nc-rsa ] || fail "keypair-show: name"
[ "$(table_value type)" = ssh ] || fail "keypair-show: type"
[ "$(table_value deleted)" = False ] || fail "keypair-show: deleted"
[ "$(table_value deleted_at)" = - ] || fail "keypair-show: deleted_at"
[ "$(table_value updated_at)" = - ] || fail "keypair-show: updated_at"
[ "$(table_value fingerprint)" = "$(md5fp "$(cat rsa.pub)")" ] || fail "keypair-show: fingerprint"
[[ "$(table_value id)" =~ ^[0-9]+$ ]] || fail "keypair-show: id is not an integer"
[[ "$(table_value created_at)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$ ]] \
    || fail "keypair-show: created_at $(table_value created_at)"
demo_id="$(table_value user_id)"
[[ "$demo_id" =~ ^[0-9a-f]{32}$ ]] || fail "keypair-show: user_id $demo_id"
has out "Public key: $(cat rsa.pub)"
run 1 as_demo nova keypair-show nc-missing
has err "ERROR (NotFound): Keypair nc-missing not found for user $demo_id (HTTP 404)"

# Admin, 2.10 --user: another user's key pairs.
run 0 as_admin nova keypair-add --user "$demo_id" --pub-key ed25519.pub nc-admin-made
empty_out
run 0 as_admin nova keypair-list
lacks out nc-admin-made
run 0 as_admin nova keypair-list --user "$demo_id"
expect_row nc-admin-made "ssh $(md5fp "$(cat ed25519.pub)")"
expect_row nc-rsa "ssh $(md5fp "$(cat rsa.pub)")"
run 0 as_admin nova keypair-show --user "$demo_id" nc-admin-made
[ "$(table_value user_id)" = "$demo_id" ] || fail "admin keypair-show --user: user_id"
run 0 as_demo nova keypair-show nc-admin-made
run 0 as_admin nova keypair-delete --user "$demo_id" nc-admin-made
empty_out
run 1 as_demo nova keypair-show nc-admin-made
# A member may not act for another user.
run 0 as_admin nova keypair-add --pub-key ed25519.pub nc-admins-own
run 0 as_admin nova keypair-show nc-admins-own
admin_id="$(table_value user_id)"
run 1 as_demo nova keypair-list --user "$admin_id"
has err "ERROR (Forbidden): Policy doesn't allow os_compute_api:os-keypairs:index to be performed. (HTTP 403)"
run 1 as_demo nova keypair-delete --user "$admin_id" nc-admins-own
has err "ERROR (Forbidden): Policy doesn't allow os_compute_api:os-keypairs:delete to be performed. (HTTP 403)"
run 0 as_admin nova keypair-delete nc-admins-own

# keypair-delete: silent; a second time 404.
for k in nc-ed25519 nc-rsa nc-ecdsa nc-gen nc-x509; do
    run 0 as_demo nova keypair-delete "$k"
    empty_out
done
run 1 as_demo nova keypair-delete nc-rsa
has err "ERROR (NotFound): Keypair nc-rsa not found for user $demo_id (HTTP 404)"
run 0 as_demo nova keypair-list
lacks out '| nc-'

# The 2.1 behaviours too (legacy clients): generation, 200/202 and no Type column.
run 0 as_demo nova --os-compute-api-version 2.1 keypair-add nc-21
has out '-----BEGIN RSA PRIVATE KEY-----'
run 0 as_demo nova --os-compute-api-version 2.1 keypair-list
has out '| Name  | Fingerprint '
lacks out 'Type'
run 0 as_demo nova --os-compute-api-version 2.1 keypair-delete nc-21

echo "compat/novaclient: OK ($steps nova invocations)"
