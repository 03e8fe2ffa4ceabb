#!/usr/bin/env bash
# tccli 3.1.189.1 (Tencent's official CLI), unmodified, against novakeys' Tencent front.
#
# tccli has no local-endpoint mode besides its own `--endpoint`, which must carry the scheme
# (`http://127.0.0.1:PORT`; without one tccli forces https). It then sends that whole string as
# the Host header and signs it (TC3 over POST JSON, always). Credentials come from the SDK's
# environment variables, with a throwaway HOME (tccli writes ~/.tccli/ and logs every command
# line there).
#
# Needs: TCCLI (the tccli executable), NOVAKEYS_TENCENT_URL, NOVAKEYS_WORK, NOVAKEYS_BIN.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=compat/python/check.sh
source "$here/../python/check.sh"
SUITE="compat/tencent tccli"
: "${TCCLI:?the tccli executable}"
URL="${NOVAKEYS_TENCENT_URL:?}"
work="$NOVAKEYS_WORK/tencent/tccli"
rm -rf "$work"
mkdir -p "$work/home"

declare -A SID=([admin]=AKIDNovakeysAdmin0000000000000000001 [demo]=AKIDNovakeysDemo00000000000000000001 [reader]=AKIDNovakeysReader000000000000000001)
declare -A SKEY=([admin]=NovakeysAdminTencentSecretKey001 [demo]=NovakeysDemoTencentSecretKey0001 [reader]=NovakeysReaderTencentSecretKey01)
KEY_ID_RE='^skey-[a-z0-9]{8}$'

# tc USER ARGS...: tccli as USER (env credentials), pointed at novakeys. TC_SID/TC_SKEY override.
tc() {
    local user="$1"
    shift
    run env HOME="$work/home" TENCENTCLOUD_SECRET_ID="${TC_SID:-${SID[$user]}}" \
        TENCENTCLOUD_SECRET_KEY="${TC_SKEY:-${SKEY[$user]}}" TENCENTCLOUD_REGION=ap-guangzhou \
        "$TCCLI" "$@" --endpoint "$URL"
}

# tc_ok WHAT USER ARGS...: exit 0 and JSON on stdout (in $OUT)
tc_ok() {
    local what="$1"
    shift
    tc "$@"
    if [ "$RC" -eq 0 ] && jq -e .RequestId >/dev/null 2>&1 <<<"$OUT"; then
        pass "$what"
    else
        fail "$what (exit $RC, expected 0 and a JSON answer with RequestId)" "$(evidence)"
    fi
}

# tc_err WHAT CODE USER ARGS...: tccli's own error line for a Tencent error body, exit 255
tc_err() {
    local what="$1" code="$2"
    shift 2
    tc "$@"
    # the message may span lines (real CAM denials do): match the whole of stderr
    local re="^\[TencentCloudSDKException\] code:${code//./\\.} message:.+ requestId:[0-9A-Fa-f-]{8,}$"
    if [ "$RC" -eq 255 ] && [[ "$ERR" =~ $re ]]; then
        pass "$what → $code"
    else
        fail "$what (expected exit 255 and '[TencentCloudSDKException] code:$code message:… requestId:…')" "$(evidence)"
    fi
}

ctl() { # METHOD PATH [JSON]
    curl -sS --noproxy '*' -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "$URL$2"
}
reset() {
    local status
    status="$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$URL/_novakeys/reset")"
    [ "$status" = 204 ] || { fail "POST /_novakeys/reset (got $status, expected 204)"; finish "$SUITE"; }
}
new_instance() { # STATE OS → id
    ctl POST /_novakeys/instances "{\"cloud\":\"tencent\",\"name\":\"vm\",\"user\":\"demo\",\"project\":\"demo\",\"os\":\"$2\",\"state\":\"$1\"}" |
        jq -r '.instance.id'
}
inst_field() { # ID FIELD
    ctl GET "/_novakeys/instances/$1" | jq -r "(.instance // .) | .$2 // \"\""
}
j() { jq -r "$1" <<<"$OUT"; }
list() { # ids... → JSON array
    local out="[" sep="" x
    for x in "$@"; do out+="$sep\"$x\""; sep=","; done
    echo "$out]"
}
gen_rsa() { # FILE
    rm -f "$1" "$1.pub"
    ssh-keygen -q -t rsa -b 2048 -N '' -C compat@tencent -f "$1"
}

command -v jq >/dev/null || { echo "compat/tencent: FAILED: jq not found; install it (apt-get install jq)" >&2; exit 1; }
command -v ssh-keygen >/dev/null || { echo "compat/tencent: FAILED: ssh-keygen not found; install openssh-client" >&2; exit 1; }

section "tccli: CreateKeyPair"
reset
tc_ok "create tc_one with a tag" demo cvm CreateKeyPair --KeyName tc_one --ProjectId 0 \
    --TagSpecification '[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"ci one"}]}]'
K1="$(j .KeyPair.KeyId)"
assert_match "KeyId is skey- + 8 lowercase alphanumerics" "$K1" "$KEY_ID_RE"
assert_eq "KeyName" "$(j .KeyPair.KeyName)" tc_one
assert_eq "ProjectId is the number 0" "$(j '.KeyPair.ProjectId | type'):$(j .KeyPair.ProjectId)" "number:0"
assert_eq "AssociatedInstanceIds is []" "$(jq -c .KeyPair.AssociatedInstanceIds <<<"$OUT")" "[]"
assert_eq "Tags" "$(jq -c .KeyPair.Tags <<<"$OUT")" '[{"Key":"env","Value":"ci one"}]'
PUB1="$(j .KeyPair.PublicKey)"
assert_match "PublicKey is ssh-rsa with the key id as comment" "$PUB1" "^ssh-rsa AAAA[A-Za-z0-9+/=]+ $K1\$"
j .KeyPair.PrivateKey >"$work/tc_one.pem"
chmod 600 "$work/tc_one.pem"
assert_eq "PrivateKey is PKCS#1 PEM" "$(head -1 "$work/tc_one.pem")" "-----BEGIN RSA PRIVATE KEY-----"
derived="$(ssh-keygen -y -f "$work/tc_one.pem" 2>&1 | awk '{print $2}')"
assert_eq "ssh-keygen -y derives the returned public key" "$derived" "$(awk '{print $2}' <<<"$PUB1")"
tc_ok "describe it by KeyIds" demo cvm DescribeKeyPairs --KeyIds "$(list "$K1")"
assert_eq "TotalCount is the number 1" "$(j '.TotalCount | type'):$(j .TotalCount)" "number:1"
assert_eq "no private key after create" "$(j '.KeyPairSet[0].PrivateKey')" null
assert_eq "Description defaults to empty" "$(jq -c '.KeyPairSet[0].Description' <<<"$OUT")" '""'
assert_match "CreatedTime is YYYY-MM-DDThh:mm:ssZ" "$(j '.KeyPairSet[0].CreatedTime')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
assert_eq "same public key listed" "$(j '.KeyPairSet[0].PublicKey')" "$PUB1"
tc_err "duplicate name" InvalidKeyPairName.Duplicate demo cvm CreateKeyPair --KeyName tc_one --ProjectId 0
tc_err "empty name" InvalidKeyPairNameEmpty demo cvm CreateKeyPair --KeyName "" --ProjectId 0
tc_err "26-character name" InvalidKeyPairNameTooLong demo cvm CreateKeyPair --KeyName abcdefghijklmnopqrstuvwxyz --ProjectId 0
tc_err "name with '-'" InvalidKeyPairNameIncludeIllegalChar demo cvm CreateKeyPair --KeyName bad-name --ProjectId 0
tc_ok "25-character name" demo cvm CreateKeyPair --KeyName abcdefghijklmnopqrstuvwxy --ProjectId 0
# tccli refuses a missing --ProjectId itself (argparse); --cli-input-json skips that check
echo '{"KeyName": "tc_noproject"}' >"$work/noproject.json"
tc_err "ProjectId missing (via --cli-input-json)" MissingParameter demo cvm CreateKeyPair --cli-input-json "file://$work/noproject.json"
assert_contains "MissingParameter names ProjectId" "$ERR" ProjectId
tc_err "unknown ProjectId" InvalidProjectId.NotFound demo cvm CreateKeyPair --KeyName tc_proj --ProjectId 987654

section "tccli: ImportKeyPair"
gen_rsa "$work/imp"
tc_ok "import an RSA public key" demo cvm ImportKeyPair --KeyName tc_imp --ProjectId 0 --PublicKey "$(cat "$work/imp.pub")"
K2="$(j .KeyId)"
assert_match "ImportKeyPair answers KeyId" "$K2" "$KEY_ID_RE"
tc_ok "describe the imported key" demo cvm DescribeKeyPairs --KeyIds "$(list "$K2")"
assert_eq "imported key body kept" "$(j '.KeyPairSet[0].PublicKey' | awk '{print $2}')" "$(awk '{print $2}' "$work/imp.pub")"
tc_err "same public key again" InvalidPublicKey.Duplicate demo cvm ImportKeyPair --KeyName tc_imp2 --ProjectId 0 --PublicKey "$(cat "$work/imp.pub")"
tc_err "malformed public key" InvalidPublicKey.Malformed demo cvm ImportKeyPair --KeyName tc_bad --ProjectId 0 --PublicKey "ssh-rsa not-a-key"
tc_err "illegal name on import" InvalidKeyPairNameIncludeIllegalChar demo cvm ImportKeyPair --KeyName "bad name" --ProjectId 0 --PublicKey "$(cat "$work/imp.pub")"

section "tccli: DescribeKeyPairs"
reset
tc_ok "create tc_a" demo cvm CreateKeyPair --KeyName tc_a --ProjectId 0 --TagSpecification '[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"dev"}]}]'
KA="$(j .KeyPair.KeyId)"
tc_ok "create tc_b" demo cvm CreateKeyPair --KeyName tc_b --ProjectId 0 --TagSpecification '[{"ResourceType":"keypair","Tags":[{"Key":"env","Value":"prod"}]}]'
KB="$(j .KeyPair.KeyId)"
tc_ok "create tc_c" demo cvm CreateKeyPair --KeyName tc_c --ProjectId 0
KC="$(j .KeyPair.KeyId)"
tc_ok "describe all" demo cvm DescribeKeyPairs
assert_eq "all three" "$(j '[.KeyPairSet[].KeyId] | sort | join(",")')" "$(printf '%s\n' "$KA" "$KB" "$KC" | sort | paste -sd,)"
tc_ok "filter key-name (JSON argument)" demo cvm DescribeKeyPairs --Filters '[{"Name":"key-name","Values":["tc_b"]}]'
assert_eq "key-name tc_b" "$(j '.TotalCount'):$(j '.KeyPairSet[0].KeyId')" "1:$KB"
tc_ok "filter key-name (--cli-unfold-argument)" demo cvm DescribeKeyPairs --cli-unfold-argument --Filters.0.Name key-name --Filters.0.Values tc_a
assert_eq "unfolded key-name tc_a" "$(j '.TotalCount'):$(j '.KeyPairSet[0].KeyId')" "1:$KA"
tc_ok "filter tag:env" demo cvm DescribeKeyPairs --Filters '[{"Name":"tag:env","Values":["prod"]}]'
assert_eq "tag:env=prod" "$(j '.TotalCount'):$(j '.KeyPairSet[0].KeyId')" "1:$KB"
tc_ok "filter tag-key" demo cvm DescribeKeyPairs --Filters '[{"Name":"tag-key","Values":["env"]}]'
assert_eq "tag-key env" "$(j '.TotalCount')" 2
tc_ok "filter tag-value" demo cvm DescribeKeyPairs --Filters '[{"Name":"tag-value","Values":["dev"]}]'
assert_eq "tag-value dev" "$(j '.TotalCount'):$(j '.KeyPairSet[0].KeyId')" "1:$KA"
tc_ok "filter project-id" demo cvm DescribeKeyPairs --Filters '[{"Name":"project-id","Values":["0"]}]'
assert_eq "project-id 0" "$(j '.TotalCount')" 3
tc_ok "page: --Offset 1 --Limit 1" demo cvm DescribeKeyPairs --Offset 1 --Limit 1
assert_eq "one item, TotalCount counts all" "$(j '.KeyPairSet | length'):$(j .TotalCount)" "1:3"
tc_ok "page: --Limit 100" demo cvm DescribeKeyPairs --Limit 100
assert_eq "Limit 100" "$(j '.KeyPairSet | length')" 3
tc_err "Limit 101" InvalidParameterValueLimit demo cvm DescribeKeyPairs --Limit 101
tc_err "negative Offset" InvalidParameterValueOffset demo cvm DescribeKeyPairs --Offset -1
tc_err "KeyIds and Filters together" InvalidParameter demo cvm DescribeKeyPairs --KeyIds "$(list "$KA")" --Filters '[{"Name":"key-name","Values":["tc_a"]}]'
tc_err "malformed key id" InvalidKeyPairId.Malformed demo cvm DescribeKeyPairs --KeyIds '["skey-1122"]'
tc_err "unknown filter" InvalidFilter demo cvm DescribeKeyPairs --Filters '[{"Name":"fingerprint","Values":["x"]}]'
tc_ok "unknown but well-formed key id" demo cvm DescribeKeyPairs --KeyIds '["skey-zzzzzzzz"]'
assert_eq "nothing found" "$(j .TotalCount):$(j '.KeyPairSet | length')" "0:0"
expect_ok "--output text" env HOME="$work/home" TENCENTCLOUD_SECRET_ID="${SID[demo]}" TENCENTCLOUD_SECRET_KEY="${SKEY[demo]}" \
    TENCENTCLOUD_REGION=ap-guangzhou "$TCCLI" cvm DescribeKeyPairs --output text --endpoint "$URL"
assert_contains "text output lists the key id" "$OUT" "$KA"
expect_ok "--output table" env HOME="$work/home" TENCENTCLOUD_SECRET_ID="${SID[demo]}" TENCENTCLOUD_SECRET_KEY="${SKEY[demo]}" \
    TENCENTCLOUD_REGION=ap-guangzhou "$TCCLI" cvm DescribeKeyPairs --output table --endpoint "$URL"
assert_contains "table output lists the key id" "$OUT" "$KB"

section "tccli: ModifyKeyPairAttribute"
tc_ok "rename tc_a → tc_renamed" demo cvm ModifyKeyPairAttribute --KeyId "$KA" --KeyName tc_renamed
tc_ok "describe the renamed key" demo cvm DescribeKeyPairs --KeyIds "$(list "$KA")"
assert_eq "same id, new name" "$(j '.KeyPairSet[0].KeyId'):$(j '.KeyPairSet[0].KeyName')" "$KA:tc_renamed"
tc_ok "set a description" demo cvm ModifyKeyPairAttribute --KeyId "$KA" --Description "CI key, 60 chars max"
tc_ok "describe it" demo cvm DescribeKeyPairs --KeyIds "$(list "$KA")"
assert_eq "description" "$(j '.KeyPairSet[0].Description')" "CI key, 60 chars max"
tc_err "61-character description" InvalidParameterValue demo cvm ModifyKeyPairAttribute --KeyId "$KA" --Description "$(printf 'd%.0s' {1..61})"
tc_err "rename onto an existing name" InvalidKeyPairName.Duplicate demo cvm ModifyKeyPairAttribute --KeyId "$KA" --KeyName tc_b
tc_err "unknown key id" InvalidKeyPairId.NotFound demo cvm ModifyKeyPairAttribute --KeyId skey-zzzzzzzz --KeyName tc_x
tc_err "nothing to modify" MissingParameter demo cvm ModifyKeyPairAttribute --KeyId "$KA"

section "tccli: AssociateInstancesKeyPairs / DisassociateInstancesKeyPairs"
I_STOPPED="$(new_instance stopped linux)"
I_RUNNING="$(new_instance running linux)"
I_WINDOWS="$(new_instance stopped windows)"
assert_match "test instances made" "$I_STOPPED $I_RUNNING $I_WINDOWS" '^ins-[a-z0-9]{8} ins-[a-z0-9]{8} ins-[a-z0-9]{8}$'
tc_ok "bind tc_renamed to a stopped instance" demo cvm AssociateInstancesKeyPairs --InstanceIds "$(list "$I_STOPPED")" --KeyIds "$(list "$KA")"
assert_eq "instance shows the key pair" "$(inst_field "$I_STOPPED" key_pair_name)" tc_renamed
tc_ok "describe the bound key" demo cvm DescribeKeyPairs --KeyIds "$(list "$KA")"
assert_eq "AssociatedInstanceIds" "$(jq -c '.KeyPairSet[0].AssociatedInstanceIds' <<<"$OUT")" "[\"$I_STOPPED\"]"
tc_err "running instance without ForceStop" UnsupportedOperation.InstanceStateRunning demo cvm AssociateInstancesKeyPairs --InstanceIds "$(list "$I_RUNNING")" --KeyIds "$(list "$KB")"
assert_eq "still running" "$(inst_field "$I_RUNNING" state)" running
tc_ok "running instance with --ForceStop True" demo cvm AssociateInstancesKeyPairs --InstanceIds "$(list "$I_RUNNING")" --KeyIds "$(list "$KB")" --ForceStop True
# CVM's doc: force-stopped, bound, and started again as it was RUNNING
assert_eq "ForceStop started the instance again" "$(inst_field "$I_RUNNING" state)" running
assert_eq "and bound tc_b" "$(inst_field "$I_RUNNING" key_pair_name)" tc_b
tc_err "windows instance" UnsupportedOperation.InstanceOsWindows demo cvm AssociateInstancesKeyPairs --InstanceIds "$(list "$I_WINDOWS")" --KeyIds "$(list "$KC")"
tc_err "unknown instance" InvalidInstanceId.NotFound demo cvm AssociateInstancesKeyPairs --InstanceIds '["ins-zzzzzzzz"]' --KeyIds "$(list "$KC")"
tc_err "malformed instance id" InvalidInstanceId.Malformed demo cvm AssociateInstancesKeyPairs --InstanceIds '["ins-1122"]' --KeyIds "$(list "$KC")"
tc_err "bound key cannot be deleted" InvalidParameterValue.KeyPairNotSupported demo cvm DeleteKeyPairs --KeyIds "$(list "$KA")"
tc_ok "unbind it" demo cvm DisassociateInstancesKeyPairs --InstanceIds "$(list "$I_STOPPED")" --KeyIds "$(list "$KA")"
assert_eq "instance has no key pair" "$(inst_field "$I_STOPPED" key_pair_name)" ""
tc_err "unbind tc_b with --ForceStop False (the instance runs)" UnsupportedOperation.InstanceStateRunning demo cvm DisassociateInstancesKeyPairs --InstanceIds "$(list "$I_RUNNING")" --KeyIds "$(list "$KB")" --ForceStop False
tc_ok "unbind tc_b with --ForceStop True" demo cvm DisassociateInstancesKeyPairs --InstanceIds "$(list "$I_RUNNING")" --KeyIds "$(list "$KB")" --ForceStop True
assert_eq "the instance has no key pair and runs again" "$(inst_field "$I_RUNNING" key_pair_name):$(inst_field "$I_RUNNING" state)" ":running"

section "tccli: DeleteKeyPairs"
tc_ok "batch delete two" demo cvm DeleteKeyPairs --KeyIds "$(list "$KA" "$KB")"
tc_ok "describe after delete" demo cvm DescribeKeyPairs
assert_eq "only tc_c left" "$(j .TotalCount):$(j '.KeyPairSet[0].KeyId')" "1:$KC"
tc_err "delete again" InvalidKeyPairId.NotFound demo cvm DeleteKeyPairs --KeyIds "$(list "$KA")"
tc_err "delete malformed id" InvalidKeyPairId.Malformed demo cvm DeleteKeyPairs --KeyIds '["skey-1122"]'

section "tccli: signatures and permissions"
TC_SKEY=NotTheDemoSecretKey0000000000000 tc_err "wrong SecretKey" AuthFailure.SignatureFailure demo cvm DescribeKeyPairs
TC_SID=AKIDNovakeysNobody000000000000000001 tc_err "unknown SecretId" AuthFailure.SecretIdNotFound demo cvm DescribeKeyPairs
ctl POST /_novakeys/clock '{"advance_seconds": 600}' >/dev/null
tc_err "server clock 10 minutes ahead" AuthFailure.SignatureExpire demo cvm DescribeKeyPairs
ctl POST /_novakeys/clock '{"set": null}' >/dev/null
tc_ok "clock restored" demo cvm DescribeKeyPairs
tc_ok "reader may describe" reader cvm DescribeKeyPairs
assert_eq "TotalCount is a number" "$(j '.TotalCount | type')" number
tc_err "reader may not create" AuthFailure.UnauthorizedOperation reader cvm CreateKeyPair --KeyName tc_reader --ProjectId 0
tc_err "reader may not delete" AuthFailure.UnauthorizedOperation reader cvm DeleteKeyPairs --KeyIds "$(list "$KC")"
tc_err "unknown region" UnsupportedRegion demo cvm DescribeKeyPairs --region ap-nowhere
tc_ok "admin creates tc_admins" admin cvm CreateKeyPair --KeyName tc_admins --ProjectId 0
KADM="$(j .KeyPair.KeyId)"
tc_ok "demo describes admin's key id" demo cvm DescribeKeyPairs --KeyIds "$(list "$KADM")"
assert_eq "demo does not see admin's key" "$(j .TotalCount)" 0
tc_err "demo cannot delete admin's key" InvalidKeyPairId.NotFound demo cvm DeleteKeyPairs --KeyIds "$(list "$KADM")"
assert_not_contains "tccli.log holds no secret key (passed by environment)" "$(cat "$work/home/.tccli/log/"* 2>/dev/null)" "${SKEY[demo]}"

section "tccli: a profile written by 'novakeys credentials --tccli-profile'"
: "${NOVAKEYS_BIN:?the novakeys executable}"
prof="$work/profile-home"
mkdir -p "$prof"
# An offline run over a fresh in-memory store: the fixture users have their documented keys,
# and the endpoint is what --tencent-bind says (this server's).
expect_ok "novakeys credentials --cloud tencent --user demo --tccli-profile nk" env HOME="$prof" \
    "$NOVAKEYS_BIN" credentials --cloud tencent --user demo --tccli-profile nk --db :memory: \
    --tencent-bind "${URL#http://}"
creds="$OUT"
assert_contains "prints TENCENTCLOUD_SECRET_ID" "$creds" "export TENCENTCLOUD_SECRET_ID=${SID[demo]}"
assert_contains "prints TENCENTCLOUD_SECRET_KEY" "$creds" "export TENCENTCLOUD_SECRET_KEY=${SKEY[demo]}"
assert_contains "prints TENCENTCLOUD_REGION" "$creds" "export TENCENTCLOUD_REGION=ap-guangzhou"
assert_contains "prints the endpoint" "$creds" "export TENCENTCLOUD_ENDPOINT=$URL"
assert_eq "the credential file" "$(jq -c . "$prof/.tccli/nk.credential")" "{\"secretId\":\"${SID[demo]}\",\"secretKey\":\"${SKEY[demo]}\"}"
assert_eq "the configure file's cvm endpoint" "$(jq -r .cvm.endpoint "$prof/.tccli/nk.configure")" "$URL"
reset
tc_ok "create tc_profile (env credentials)" demo cvm CreateKeyPair --KeyName tc_profile --ProjectId 0
KP="$(j .KeyPair.KeyId)"
# No --endpoint, no credentials in the environment: all from the profile.
expect_ok "tccli --profile nk cvm DescribeKeyPairs (no --endpoint)" env -u TENCENTCLOUD_SECRET_ID \
    -u TENCENTCLOUD_SECRET_KEY -u TENCENTCLOUD_REGION HOME="$prof" "$TCCLI" --profile nk cvm DescribeKeyPairs
assert_eq "the profile reaches novakeys as demo" "$(j .TotalCount):$(j '.KeyPairSet[0].KeyId')" "1:$KP"
expect_ok "the profile works again (tccli rewrote its configure file)" env HOME="$prof" "$TCCLI" --profile nk cvm DescribeKeyPairs --KeyIds "$(list "$KP")"
assert_eq "same key" "$(j '.KeyPairSet[0].KeyName')" tc_profile
expect_ok "eval of what it printed sets up tccli without a profile" bash -c \
    "eval \"\$1\"; HOME=\"\$2\" \"\$3\" cvm DescribeKeyPairs --endpoint \"\$TENCENTCLOUD_ENDPOINT\"" _ "$creds" "$work/home" "$TCCLI"
assert_eq "as demo too" "$(j .TotalCount)" 1

finish "$SUITE"
