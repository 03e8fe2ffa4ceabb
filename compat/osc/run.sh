#!/usr/bin/env bash
# The stock `openstack` CLI (python-openstackclient, pinned in ../python/requirements.txt)
# against a running novakeys: every `openstack keypair` command and option, at compute
# microversions 2.1, 2.2, 2.10, 2.35, 2.92 and 2.latest, logged in by password (clouds.yaml),
# by token and by application credential. Run by tests/compat.rs, which starts the server and
# sets OS_AUTH_URL, OS_REGION_NAME and NOVAKEYS_WORK.
#
# What a real cloud does here is in ../../../shared/spec/clients.md §3 and the transcript of OSC
# against real Nova/Keystone (captures/keystone/openstack-cli-transcript.txt).
set -euo pipefail
suite_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE=osc
# shellcheck source=SCRIPTDIR/../python/venv.sh
source "$suite_dir/../python/venv.sh"
# shellcheck source=SCRIPTDIR/../python/check.sh
source "$suite_dir/../python/check.sh"
# shellcheck source=SCRIPTDIR/../python/cloud.sh
source "$suite_dir/../python/cloud.sh"

cd "$NOVAKEYS_WORK"
openstack --version

section "setup: keys made by ssh-keygen, user ids"
mkdir -p keys
ssh-keygen -q -t rsa -b 3072 -N '' -C 'rsa@compat' -f keys/rsa
ssh-keygen -q -t ecdsa -b 256 -N '' -C 'ecdsa256@compat' -f keys/ecdsa256
ssh-keygen -q -t ecdsa -b 384 -N '' -C 'ecdsa384@compat' -f keys/ecdsa384
ssh-keygen -q -t ecdsa -b 521 -N '' -C 'ecdsa521@compat' -f keys/ecdsa521
ssh-keygen -q -t ed25519 -N '' -C 'ed25519@compat' -f keys/ed25519
KEY_TYPES=(rsa ecdsa256 ecdsa384 ecdsa521 ed25519)

must "demo logs in by password (token issue)" openstack --os-cloud demo token issue -f json
DEMO_ID="$(json_get user_id <"$OUT_FILE")"
assert_match "token issue shows demo's user id" "$DEMO_ID" '^[0-9a-f]{32}$'
must "reader logs in" openstack --os-cloud reader token issue -f value -c user_id
READER_ID="$OUT"
must "admin logs in" openstack --os-cloud admin token issue -f value -c user_id
ADMIN_ID="$OUT"
assert_ne "demo, reader and admin are different users" "$DEMO_ID" "$READER_ID"
assert_ne "admin is not demo" "$ADMIN_ID" "$DEMO_ID"

# The microversion OSC negotiates for `--os-compute-api-version V`. The SDK ignores a version
# containing "latest" (with a warning) and negotiates min(its max 2.10, Nova's max) instead.
effective() {
    case "$1" in
    *latest) echo 2.10 ;;
    *) echo "$1" ;;
    esac
}

# ge A B: microversion A >= B.
ge() {
    local a="${1#2.}" b="${2#2.}"
    [ "$a" -ge "$b" ]
}

# One pass over every keypair command at microversion $1. Checks that do not depend on the
# microversion (other spellings of --user, the not-found paths, ...) run at 2.10 only, and
# each key type's verbatim round trip at 2.1, 2.92 and one other version, to keep the suite
# quick: every `openstack` call costs about 1.5 s of CPU.
at_version() {
    local v="$1" i="$2" ev t n k
    ev="$(effective "$v")"
    t="${v//./_}"
    local os=(openstack --os-compute-api-version "$v")
    local demo=("${os[@]}" --os-cloud demo) admin=("${os[@]}" --os-cloud admin)
    local once=false
    [ "$v" = 2.10 ] && once=true

    section "keypair create at $v (sends $ev)"
    # No key given: OSC generates an ed25519 key itself and prints only the private key.
    must "$v: create $t-gen (generated)" "${demo[@]}" keypair create "$t-gen"
    grep -v '^$' "$OUT_FILE" >"$t-gen.pem"
    chmod 600 "$t-gen.pem"
    assert_eq "$v: stdout starts with the OpenSSH private key header" \
        "$(head -n1 "$t-gen.pem")" "-----BEGIN OPENSSH PRIVATE KEY-----"
    assert_eq "$v: ... and ends with its footer" \
        "$(tail -n1 "$t-gen.pem")" "-----END OPENSSH PRIVATE KEY-----"
    assert_match "$v: the generated key is ed25519" "$(ssh-keygen -l -f "$t-gen.pem" 2>&1)" '\(ED25519\)$'
    ssh-keygen -y -f "$t-gen.pem" | awk '{print $1, $2}' >"$t-gen.pub"

    # --private-key FILE: the key goes to FILE, the table to stdout.
    must "$v: create --private-key $t-priv.pem $t-priv" \
        "${demo[@]}" keypair create --private-key "$t-priv.pem" "$t-priv" -f json
    assert_eq "$v: --private-key: name" "$(json_get name <"$OUT_FILE")" "$t-priv"
    assert_eq "$v: --private-key: id is the name" "$(json_get id <"$OUT_FILE")" "$t-priv"
    assert_eq "$v: --private-key: user_id is demo" "$(json_get user_id <"$OUT_FILE")" "$DEMO_ID"
    assert_eq "$v: --private-key: type" "$(json_get type <"$OUT_FILE")" "ssh"
    assert_not_contains "$v: --private-key: no private key on stdout" "$OUT" "PRIVATE KEY"
    chmod 600 "$t-priv.pem"
    assert_eq "$v: --private-key file holds an OpenSSH private key" \
        "$(head -n1 "$t-priv.pem")" "-----BEGIN OPENSSH PRIVATE KEY-----"
    ssh-keygen -y -f "$t-priv.pem" | awk '{print $1, $2}' >"$t-priv.pub"
    assert_eq "$v: --private-key: fingerprint = ssh-keygen -l -E md5" \
        "$(json_get fingerprint <"$OUT_FILE")" "$(md5_fingerprint "$t-priv.pub")"

    # --public-key FILE, one per key type made by ssh-keygen.
    local verbatim=("${KEY_TYPES[$((i % ${#KEY_TYPES[@]}))]}")
    case "$v" in 2.1 | 2.92) verbatim=("${KEY_TYPES[@]}") ;; esac
    for k in "${KEY_TYPES[@]}"; do
        n="$t-$k"
        expect_ok "$v: create --public-key keys/$k.pub $n" \
            "${demo[@]}" keypair create --public-key "keys/$k.pub" "$n" -f json
        assert_eq "$v: $n: fingerprint = ssh-keygen -l -E md5" \
            "$(json_get fingerprint <"$OUT_FILE")" "$(md5_fingerprint "keys/$k.pub")"
        assert_eq "$v: $n: name" "$(json_get name <"$OUT_FILE")" "$n"
        assert_eq "$v: $n: user_id" "$(json_get user_id <"$OUT_FILE")" "$DEMO_ID"
        assert_eq "$v: $n: type" "$(json_get type <"$OUT_FILE")" "ssh"
    done
    for k in "${verbatim[@]}"; do
        # The public key comes back byte for byte (trailing newline and comment included).
        n="$t-$k"
        expect_ok "$v: show --public-key $n" "${demo[@]}" keypair show --public-key -f value "$n"
        assert_same_file "$v: show --public-key $n prints keys/$k.pub verbatim" "$OUT_FILE" "keys/$k.pub"
    done

    expect_rc 1 "$v: creating $t-rsa again fails" \
        "${demo[@]}" keypair create --public-key keys/rsa.pub "$t-rsa"
    assert_contains "$v: ... with Nova's conflict message" "$ERR" \
        "ConflictException: 409: Client Error for url: $NOVAKEYS_COMPUTE_URL/v2.1/os-keypairs, Key pair '$t-rsa' already exists."

    # Names with '.' and '@' are valid from 2.92 only.
    if ge "$ev" 2.92; then
        expect_ok "$v: create a key named k.$t@x" \
            "${demo[@]}" keypair create --public-key keys/ed25519.pub "k.$t@x" -f value -c name
        assert_eq "$v: ... named k.$t@x" "$OUT" "k.$t@x"
        expect_ok "$v: delete k.$t@x" "${demo[@]}" keypair delete "k.$t@x"
    else
        expect_rc 1 "$v: a key named k.$t@x is refused" \
            "${demo[@]}" keypair create --public-key keys/ed25519.pub "k.$t@x"
        assert_contains "$v: ... with a 400" "$ERR" "BadRequestException: 400"
    fi

    section "keypair show at $v"
    expect_ok "$v: show $t-gen" "${demo[@]}" keypair show "$t-gen" -f json
    local show_json
    show_json="$(cat "$OUT_FILE")"
    assert_eq "$v: show: name" "$(json_get name <<<"$show_json")" "$t-gen"
    assert_eq "$v: show: id" "$(json_get id <<<"$show_json")" "$t-gen"
    assert_eq "$v: show: user_id" "$(json_get user_id <<<"$show_json")" "$DEMO_ID"
    assert_eq "$v: show: type" "$(json_get type <<<"$show_json")" "ssh"
    assert_eq "$v: show: is_deleted" "$(json_get is_deleted <<<"$show_json")" "False"
    assert_eq "$v: show: private_key" "$(json_get private_key <<<"$show_json")" ""
    assert_match "$v: show: created_at" "$(json_get created_at <<<"$show_json")" \
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$'
    assert_eq "$v: show: fingerprint = ssh-keygen -l -E md5 of the private key's public half" \
        "$(json_get fingerprint <<<"$show_json")" "$(md5_fingerprint "$t-gen.pub")"
    expect_ok "$v: show --public-key $t-gen" "${demo[@]}" keypair show --public-key -f value "$t-gen"
    assert_eq "$v: show --public-key = ssh-keygen -y of the printed private key" "$OUT" "$(cat "$t-gen.pub")"
    if $once; then
        expect_ok "$v: show $t-gen (table)" "${demo[@]}" keypair show "$t-gen"
        local field
        for field in created_at fingerprint id is_deleted name private_key type user_id; do
            assert_match "$v: show table has a $field row" "$OUT" "\| $field +\|"
        done
        assert_not_contains "$v: show table hides public_key" "$OUT" "public_key"
        expect_ok "$v: show --public-key $t-priv" "${demo[@]}" keypair show --public-key "$t-priv"
        assert_eq "$v: show --public-key = ssh-keygen -y of the --private-key file" "$OUT" "$(cat "$t-priv.pub")"
        expect_rc 1 "$v: show $t-missing fails" "${demo[@]}" keypair show "$t-missing"
        assert_eq "$v: ... saying No Keypair found" "$ERR" "No Keypair found for $t-missing"
    fi

    section "keypair list at $v"
    # --debug shows the request and response headers: the microversion must round-trip.
    expect_ok "$v: list" "${demo[@]}" --debug keypair list
    local list_out="$OUT" debug="$ERR" req resp
    req="$(grep -E '^REQ: curl -g -i -X GET \S+/v2\.1/os-keypairs ' <<<"$debug" || true)"
    resp="$(grep -A4 -E '^REQ: curl -g -i -X GET \S+/v2\.1/os-keypairs ' <<<"$debug" | grep '^RESP:' || true)"
    assert_contains "$v: list asks for compute $ev" "$req" "-H \"OpenStack-API-Version: compute $ev\""
    assert_contains "$v: ... in both headers" "$req" "-H \"X-OpenStack-Nova-API-Version: $ev\""
    assert_contains "$v: Nova answers 200" "$resp" "RESP: [200] "
    assert_contains "$v: ... echoing the version" "$resp" "openstack-api-version: compute $ev "
    if ge "$ev" 2.2; then
        assert_match "$v: list columns Name | Fingerprint | Type" "$list_out" \
            '\| Name +\| Fingerprint +\| Type +\|'
    else
        assert_match "$v: list columns Name | Fingerprint" "$list_out" '\| Name +\| Fingerprint +\|'$'\n'
    fi
    for k in gen priv "${KEY_TYPES[@]}"; do
        assert_match "$v: list has $t-$k" "$list_out" "\| $t-$k +\| [0-9a-f:]{47} +\|"
    done
    assert_match "$v: list shows $t-rsa's fingerprint" "$list_out" \
        "\| $t-rsa +\| $(md5_fingerprint keys/rsa.pub) +\|"

    if ge "$ev" 2.10; then
        expect_ok "$v: admin: list --user demo" "${admin[@]}" keypair list --user demo -f value -c Name
        assert_contains "$v: ... has demo's $t-gen" "$OUT" "$t-gen"
        expect_ok "$v: admin: list --project demo" "${admin[@]}" keypair list --project demo -f value -c Name
        assert_contains "$v: ... has demo's $t-priv" "$OUT" "$t-priv"
        assert_contains "$v: ... has reader's reader-key" "$OUT" "reader-key"
        assert_not_contains "$v: ... not admin's admin-key" "$OUT" "admin-key"
        expect_ok "$v: admin: create --user demo $t-foruser" \
            "${admin[@]}" keypair create --user demo --public-key keys/ecdsa256.pub "$t-foruser" -f json
        assert_eq "$v: ... owned by demo" "$(json_get user_id <"$OUT_FILE")" "$DEMO_ID"
        expect_ok "$v: admin: show --user demo $t-foruser" \
            "${admin[@]}" keypair show --user demo "$t-foruser" -f value -c fingerprint
        assert_eq "$v: ... fingerprint" "$OUT" "$(md5_fingerprint keys/ecdsa256.pub)"
        expect_ok "$v: admin: delete --user demo $t-foruser" "${admin[@]}" keypair delete --user demo "$t-foruser"
        if $once; then
            expect_ok "$v: admin: list --user demo --user-domain Default" \
                "${admin[@]}" keypair list --user demo --user-domain Default -f value -c Name
            assert_contains "$v: ... has demo's $t-rsa" "$OUT" "$t-rsa"
            expect_ok "$v: admin: list --user <demo's id>" "${admin[@]}" keypair list --user "$DEMO_ID" -f value -c Name
            assert_contains "$v: ... has demo's $t-ed25519" "$OUT" "$t-ed25519"
            expect_ok "$v: admin: list (own keys)" "${admin[@]}" keypair list -f value -c Name
            assert_eq "$v: ... only admin-key" "$OUT" "admin-key"
            expect_ok "$v: admin: create --user demo --user-domain Default $t-foruser" \
                "${admin[@]}" keypair create --user demo --user-domain Default --public-key keys/ecdsa256.pub "$t-foruser" -f value -c user_id
            assert_eq "$v: ... owned by demo" "$OUT" "$DEMO_ID"
            expect_ok "$v: demo sees $t-foruser as its own" "${demo[@]}" keypair show "$t-foruser" -f value -c user_id
            assert_eq "$v: ... owned by demo" "$OUT" "$DEMO_ID"
            expect_rc 1 "$v: admin: show $t-foruser without --user fails (not admin's key)" \
                "${admin[@]}" keypair show "$t-foruser"
            assert_eq "$v: ... No Keypair found" "$ERR" "No Keypair found for $t-foruser"
            expect_ok "$v: admin: delete --user $DEMO_ID $t-foruser" "${admin[@]}" keypair delete --user "$DEMO_ID" "$t-foruser"
            expect_rc 1 "$v: demo: $t-foruser is gone" "${demo[@]}" keypair show "$t-foruser"
            expect_rc 1 "$v: demo: list --user admin is forbidden" "${demo[@]}" keypair list --user "$ADMIN_ID"
            assert_contains "$v: ... with Nova's policy message" "$ERR" \
                "ForbiddenException: 403: Client Error for url: $NOVAKEYS_COMPUTE_URL/v2.1/os-keypairs?user_id=$ADMIN_ID, Policy doesn't allow os_compute_api:os-keypairs:index to be performed."
        fi
    else
        local cmd opt
        for cmd in "list --user demo" "list --project demo" "show --user demo $t-gen" \
            "delete --user demo $t-gen" "create --user demo $t-x"; do
            opt="$(sed -E 's/.*--([a-z]+).*/\1/' <<<"$cmd")"
            # shellcheck disable=SC2086 # word splitting of $cmd is the point
            expect_rc 1 "$v: admin: $cmd needs 2.10" "${admin[@]}" keypair $cmd
            assert_contains "$v: ... says so" "$ERR" \
                "--os-compute-api-version 2.10 or greater is required to support the --$opt option"
        done
    fi

    local all
    all="$(printf '%s\n' "$t-ecdsa256" "$t-ecdsa384" "$t-ecdsa521" "$t-ed25519" "$t-gen" "$t-priv" "$t-rsa" | sort)"
    if ge "$ev" 2.35; then
        # Pages of one: the SDK follows keypairs_links until a page comes back empty.
        expect_ok "$v: list --limit 1" "${demo[@]}" --debug keypair list --limit 1 -f value -c Name
        assert_eq "$v: ... lists all 7 keys, sorted by name" "$OUT" "$all"
        assert_eq "$v: ... one page per key, plus the empty last page" \
            "$(grep -c -E '^REQ: curl -g -i -X GET "\S+/os-keypairs\?limit=' <<<"$ERR")" 8
        expect_ok "$v: list --limit 2 --marker $t-gen" \
            "${demo[@]}" keypair list --limit 2 --marker "$t-gen" -f value -c Name
        assert_eq "$v: ... the keys after $t-gen" "$OUT" "$(sed -n '/-gen$/,$p' <<<"$all" | tail -n +2)"
        expect_rc 1 "$v: list --marker <unknown>" "${demo[@]}" keypair list --marker "$t-nope"
        assert_contains "$v: ... is a 400" "$ERR" "BadRequestException: 400"
        assert_contains "$v: ... naming the marker" "$ERR" "Marker $t-nope could not be found."
    elif [ "$ev" != "$v" ]; then
        # 2.latest: the gate passes (no default microversion set), but the SDK sends 2.10, where
        # Nova ignores limit; the same page comes back and the SDK gives up, as against Nova.
        expect_rc 1 "$v: list --limit 1 at the negotiated 2.10" "${demo[@]}" keypair list --limit 1
        assert_contains "$v: ... Endless pagination loop" "$ERR" "Endless pagination loop detected"
    else
        expect_rc 1 "$v: list --limit 1 needs 2.35" "${demo[@]}" keypair list --limit 1
        assert_contains "$v: ... says so" "$ERR" \
            "--os-compute-api-version 2.35 or greater is required to support the --limit option"
        if $once; then
            expect_rc 1 "$v: list --marker needs 2.35" "${demo[@]}" keypair list --marker "$t-gen"
            assert_contains "$v: ... says so" "$ERR" \
                "--os-compute-api-version 2.35 or greater is required to support the --marker option"
        fi
    fi

    section "keypair delete at $v"
    expect_ok "$v: delete one" "${demo[@]}" keypair delete "$t-gen"
    assert_eq "$v: ... silently" "$OUT$ERR" ""
    expect_ok "$v: delete several" "${demo[@]}" keypair delete "$t-ecdsa256" "$t-ecdsa384" "$t-ecdsa521"
    assert_eq "$v: ... silently" "$OUT$ERR" ""
    expect_rc 1 "$v: delete an existing and a missing key" "${demo[@]}" keypair delete "$t-ed25519" "$t-gen"
    assert_contains "$v: ... names the missing one" "$ERR" \
        "Failed to delete key with name '$t-gen': NotFoundException: 404: Client Error for url: $NOVAKEYS_COMPUTE_URL/v2.1/os-keypairs/$t-gen, Keypair $t-gen not found for user $DEMO_ID"
    assert_contains "$v: ... and counts" "$ERR" "1 of 2 keys failed to delete."
    expect_ok "$v: list after deleting" "${demo[@]}" keypair list -f value -c Name
    assert_eq "$v: ... only $t-priv and $t-rsa left" "$OUT" "$(printf '%s\n' "$t-priv" "$t-rsa")"
    if $once; then
        expect_rc 1 "$v: delete a missing key" "${demo[@]}" keypair delete "$t-gen"
        assert_contains "$v: ... 1 of 1" "$ERR" "1 of 1 keys failed to delete."
    fi
    expect_ok "$v: delete the rest" "${demo[@]}" keypair delete "$t-priv" "$t-rsa"
    assert_eq "$v: ... silently" "$OUT$ERR" ""
}

section "keys of other users (for --project and --user)"
expect_ok "reader creates reader-key" openstack --os-cloud reader keypair create --public-key keys/rsa.pub reader-key -f value -c user_id
assert_eq "... owned by reader" "$OUT" "$READER_ID"
expect_ok "admin creates admin-key" openstack --os-cloud admin keypair create --public-key keys/ed25519.pub admin-key -f value -c user_id
assert_eq "... owned by admin" "$OUT" "$ADMIN_ID"
expect_ok "demo sees none of them" openstack --os-cloud demo keypair list -f value
assert_eq "... empty list" "$OUT" ""

VERSIONS=(2.1 2.2 2.10 2.35 2.92 2.latest)
for i in "${!VERSIONS[@]}"; do
    at_version "${VERSIONS[$i]}" "$i"
done
expect_ok "demo's keys are all gone" openstack --os-cloud demo keypair list -f value
assert_eq "... empty list" "$OUT" ""

section "login by token (--os-auth-type token)"
must "demo: token issue" openstack --os-cloud demo token issue -f value -c id
TOKEN="$OUT"
tok=(openstack --os-auth-type token --os-token "$TOKEN" --os-auth-url "$OS_AUTH_URL"
    --os-project-name demo --os-project-domain-name Default)
expect_ok "token: create tok-key" "${tok[@]}" keypair create --public-key keys/ecdsa384.pub tok-key -f json
assert_eq "... owned by demo" "$(json_get user_id <"$OUT_FILE")" "$DEMO_ID"
assert_eq "... fingerprint" "$(json_get fingerprint <"$OUT_FILE")" "$(md5_fingerprint keys/ecdsa384.pub)"
expect_ok "token: list" "${tok[@]}" keypair list -f value -c Name
assert_eq "... tok-key" "$OUT" "tok-key"
expect_ok "token: show --public-key" "${tok[@]}" keypair show --public-key -f value tok-key
assert_same_file "... verbatim" "$OUT_FILE" keys/ecdsa384.pub
expect_ok "token: delete" "${tok[@]}" keypair delete tok-key
expect_rc 1 "token: a made-up token is refused" openstack --os-auth-type token --os-token not-a-token \
    --os-auth-url "$OS_AUTH_URL" --os-project-name demo --os-project-domain-name Default keypair list
# Keystone answers an unknown token with 404 (capture k0a3), which OSC prints.
assert_contains "... by Keystone (HTTP 404)" "$ERR" "Could not find token: not-a-token. (HTTP 404)"

section "login by application credential (v3applicationcredential)"
must "demo: application credential create" \
    openstack --os-cloud demo application credential create compat-ac -f json
AC_ID="$(json_get ID <"$OUT_FILE")"
AC_SECRET="$(json_get Secret <"$OUT_FILE")"
# Without --role, Keystone gives the credential the token's roles (member, and reader which
# member implies).
assert_contains "... with the token's roles" "$(json_get Roles <"$OUT_FILE")" "member"
assert_match "... has an id" "$AC_ID" '^[0-9a-f]{32}$'
assert_ne "... and a secret" "$AC_SECRET" ""
cat >>"$OS_CLIENT_CONFIG_FILE" <<EOF
  demo-ac:
    region_name: $OS_REGION_NAME
    auth_type: v3applicationcredential
    auth:
      auth_url: $OS_AUTH_URL
      application_credential_id: $AC_ID
      application_credential_secret: $AC_SECRET
  demo-ac-name:
    region_name: $OS_REGION_NAME
    auth_type: v3applicationcredential
    auth:
      auth_url: $OS_AUTH_URL
      application_credential_name: compat-ac
      application_credential_secret: $AC_SECRET
      username: demo
      user_domain_name: Default
  demo-ac-bad:
    region_name: $OS_REGION_NAME
    auth_type: v3applicationcredential
    auth:
      auth_url: $OS_AUTH_URL
      application_credential_id: $AC_ID
      application_credential_secret: not-the-secret
EOF
expect_ok "app cred (by id): create ac-key" \
    openstack --os-cloud demo-ac keypair create --public-key keys/ecdsa521.pub ac-key -f json
assert_eq "... owned by demo" "$(json_get user_id <"$OUT_FILE")" "$DEMO_ID"
expect_ok "app cred (by name + user): show ac-key" \
    openstack --os-cloud demo-ac-name keypair show ac-key -f value -c fingerprint
assert_eq "... fingerprint" "$OUT" "$(md5_fingerprint keys/ecdsa521.pub)"
expect_ok "app cred: list" openstack --os-cloud demo-ac --os-compute-api-version 2.35 keypair list -f value -c Name
assert_eq "... ac-key" "$OUT" "ac-key"
expect_ok "password: demo sees ac-key too" openstack --os-cloud demo keypair show --public-key -f value ac-key
assert_same_file "... verbatim" "$OUT_FILE" keys/ecdsa521.pub
expect_ok "app cred: delete ac-key" openstack --os-cloud demo-ac-name keypair delete ac-key
expect_rc 1 "app cred with a wrong secret is refused" openstack --os-cloud demo-ac-bad keypair list
assert_contains "... by Keystone (HTTP 401)" "$ERR" "(HTTP 401)"

section "domain role grant (openstack role add --domain), then a domain-scoped token"
# Keystone scopes a token to a domain only for a user with a role there.
domain_token() {
    env -u OS_CLOUD OS_AUTH_TYPE=password OS_USERNAME=demo OS_PASSWORD=demo \
        OS_USER_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 OS_AUTH_URL="$OS_AUTH_URL" \
        openstack --os-domain-name Default token issue -f json
}
expect_rc 1 "demo has no role on domain Default: no domain-scoped token" domain_token
assert_contains "... Keystone's 401" "$ERR" "(HTTP 401)"
expect_ok "admin: openstack role add --domain default --user demo admin" \
    openstack --os-cloud admin role add --domain default --user demo admin
expect_ok "admin: role assignment list shows it" \
    openstack --os-cloud admin role assignment list --domain default --user demo --names -f value -c Role
assert_eq "... admin on the domain" "$OUT" "admin"
expect_ok "demo: openstack --os-domain-name Default token issue" domain_token
assert_eq "... scoped to the domain" "$(json_get domain_id <"$OUT_FILE")" "default"
expect_ok "admin: openstack role remove --domain default --user demo admin" \
    openstack --os-cloud admin role remove --domain default --user demo admin
expect_rc 1 "... and demo's domain token is refused again" domain_token

section "wrong password"
expect_rc 1 "a wrong password is refused" openstack --os-cloud demo --os-password wrong keypair list
assert_contains "... with Keystone's message" "$ERR" \
    "The request you have made requires authentication. (HTTP 401)"

finish "$SUITE"
