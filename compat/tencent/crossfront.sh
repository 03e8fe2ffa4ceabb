#!/usr/bin/env bash
# One store, two faces: key pairs handled through the Tencent front (tccli, unmodified) as seen
# by the stock `openstack` CLI as the same user (shared venv, compat/python/cloud.sh), and the
# other way round.
#
# Needs: TCCLI, NOVAKEYS_TENCENT_URL, NOVAKEYS_WORK, OS_AUTH_URL, OS_REGION_NAME.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${TCCLI:?the tccli executable}"
URL="${NOVAKEYS_TENCENT_URL:?}"
# shellcheck source=compat/python/venv.sh
source "$here/../python/venv.sh"
# shellcheck source=compat/python/cloud.sh
source "$here/../python/cloud.sh"
# shellcheck source=compat/python/check.sh
source "$here/../python/check.sh"
SUITE="compat/tencent cross-front"
work="$NOVAKEYS_WORK/tencent/crossfront"
rm -rf "$work"
mkdir -p "$work/home"

tc() { # tccli as demo
    run env HOME="$work/home" TENCENTCLOUD_SECRET_ID=AKIDNovakeysDemo00000000000000000001 \
        TENCENTCLOUD_SECRET_KEY=NovakeysDemoTencentSecretKey0001 TENCENTCLOUD_REGION=ap-guangzhou \
        "$TCCLI" cvm "$@" --endpoint "$URL"
}
tc_ok() {
    local what="$1"
    shift
    tc "$@"
    if [ "$RC" -eq 0 ] && jq -e .RequestId >/dev/null 2>&1 <<<"$OUT"; then pass "$what"; else fail "$what (exit $RC)" "$(evidence)"; fi
}
os_demo() { OS_CLOUD=demo openstack "$@"; }
ctl() { curl -sS --noproxy '*' -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "$URL$2"; }
md5_of() { # public key line → MD5 colon fingerprint (Nova's format)
    printf '%s\n' "$1" >"$work/fp.pub"
    ssh-keygen -l -E md5 -f "$work/fp.pub" | awk '{print $2}' | sed 's/^MD5://'
}
nova_fp() { # NAME: fingerprint of NAME in the last `openstack keypair list -f json` ("" when absent)
    jq -r --arg n "$1" '.[] | select(.Name == $n) | .Fingerprint' <<<"$OUT"
}

status="$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$URL/_novakeys/reset")"
assert_eq "POST /_novakeys/reset" "$status" 204

section "Tencent → Nova: create, rename"
tc_ok "tccli CreateKeyPair tcx_made (demo)" CreateKeyPair --KeyName tcx_made --ProjectId 0
KID="$(jq -r .KeyPair.KeyId <<<"$OUT")"
FP="$(md5_of "$(jq -r .KeyPair.PublicKey <<<"$OUT")")"
assert_match "fingerprint computed" "$FP" '^([0-9a-f]{2}:){15}[0-9a-f]{2}$'
expect_ok "openstack keypair list (demo)" os_demo keypair list -f json
assert_eq "Nova lists tcx_made with the same MD5 fingerprint" "$(nova_fp tcx_made)" "$FP"
tc_ok "tccli ModifyKeyPairAttribute → tcx_renamed" ModifyKeyPairAttribute --KeyId "$KID" --KeyName tcx_renamed
expect_ok "openstack keypair list after the rename" os_demo keypair list -f json
assert_eq "Nova shows the new name, same fingerprint" "$(nova_fp tcx_renamed)" "$FP"
assert_eq "the old name is gone from Nova" "$(nova_fp tcx_made)" ""
expect_ok "openstack keypair show tcx_renamed" os_demo keypair show tcx_renamed -f json
assert_eq "show: fingerprint" "$(jq -r .fingerprint <<<"$OUT")" "$FP"
expect_ok "reader's Nova list does not show demo's key" env OS_CLOUD=reader openstack keypair list -f json
assert_eq "not visible to reader" "$(nova_fp tcx_renamed)" ""

section "Nova → Tencent"
rm -f "$work/nova" "$work/nova.pub"
ssh-keygen -q -t rsa -b 2048 -N '' -C nova@compat -f "$work/nova"
expect_ok "openstack keypair create --public-key nova_made" os_demo keypair create --public-key "$work/nova.pub" nova_made -f json
tc_ok "tccli DescribeKeyPairs key-name nova_made" DescribeKeyPairs --Filters '[{"Name":"key-name","Values":["nova_made"]}]'
assert_eq "Tencent lists Nova's key once" "$(jq -r '[.KeyPairSet[] | select(.KeyName == "nova_made")] | length' <<<"$OUT")" 1
assert_match "with a Tencent key id" "$(jq -r '.KeyPairSet[] | select(.KeyName == "nova_made") | .KeyId' <<<"$OUT")" '^skey-[a-z0-9]{8}$'
assert_eq "and the same public key" "$(jq -r '.KeyPairSet[] | select(.KeyName == "nova_made") | .PublicKey' <<<"$OUT" | awk '{print $2}')" "$(awk '{print $2}' "$work/nova.pub")"
expect_ok "openstack keypair delete nova_made" os_demo keypair delete nova_made
tc_ok "tccli DescribeKeyPairs after the Nova delete" DescribeKeyPairs --Filters '[{"Name":"key-name","Values":["nova_made"]}]'
assert_eq "gone from Tencent too" "$(jq -r '[.KeyPairSet[] | select(.KeyName == "nova_made")] | length' <<<"$OUT")" 0

section "a key bound through Tencent: Tencent refuses the delete, Nova does it, the instance keeps its key"
IID="$(ctl POST /_novakeys/instances '{"cloud":"tencent","name":"vm","user":"demo","project":"demo","os":"linux","state":"stopped"}' | jq -r .instance.id)"
assert_match "instance made" "$IID" '^ins-[a-z0-9]{8}$'
tc_ok "tccli AssociateInstancesKeyPairs" AssociateInstancesKeyPairs --InstanceIds "[\"$IID\"]" --KeyIds "[\"$KID\"]"
assert_eq "instance bound to tcx_renamed" "$(ctl GET "/_novakeys/instances/$IID" | jq -r '(.instance // .) | .key_pair_name')" tcx_renamed
tc DeleteKeyPairs --KeyIds "[\"$KID\"]"
assert_eq "tccli DeleteKeyPairs of the bound key exits 255" "$RC" 255
assert_contains "… with InvalidParameterValue.KeyPairNotSupported" "$ERR" "code:InvalidParameterValue.KeyPairNotSupported "
expect_ok "openstack keypair list" os_demo keypair list -f json
assert_eq "Nova still has it" "$(nova_fp tcx_renamed)" "$FP"
expect_ok "openstack keypair delete tcx_renamed (Nova allows it)" os_demo keypair delete tcx_renamed
expect_ok "openstack keypair list" os_demo keypair list -f json
assert_eq "Nova no longer lists it" "$(nova_fp tcx_renamed)" ""
tc_ok "tccli DescribeKeyPairs by its id" DescribeKeyPairs --KeyIds "[\"$KID\"]"
assert_eq "Tencent no longer lists it" "$(jq -r .TotalCount <<<"$OUT")" 0
assert_eq "the instance keeps its key pair name" "$(ctl GET "/_novakeys/instances/$IID" | jq -r '(.instance // .) | .key_pair_name')" tcx_renamed

finish "$SUITE"
