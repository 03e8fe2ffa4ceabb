#!/usr/bin/env bash
# Key pair life cycle, as TWCC (Taiwan Computing Cloud) documents it for its CLI users:
# create a key pair and keep the private key as a .pem, see it in the list, look at its
# details, delete it.
#
# Needs: the `openstack` CLI logged in to a project (here OS_CLOUD, set by run.sh, picks a
# clouds.yaml entry), ssh-keygen. Run it in a scratch directory: it writes twcc-key.pem (and,
# for the twccli part, step 5, twcc-data/ and twcc-cli/).
set -euo pipefail
examples_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../python/check.sh
source "$examples_dir/../python/check.sh"
name=twcc-key

# 1. Create the key pair. OSC generates the key (ed25519) on this machine, registers the public
#    half with Nova and prints the private key, which only you ever see: save it, readable by
#    you alone (ssh refuses private keys that others can read).
section "create $name and save the private key"
must "openstack keypair create $name > $name.pem" openstack keypair create "$name"
cp "$OUT_FILE" "$name.pem"
chmod 600 "$name.pem"
assert_eq "$name.pem is mode 600" "$(stat -c %a "$name.pem")" 600
assert_eq "$name.pem is an OpenSSH private key" "$(head -n1 "$name.pem")" "-----BEGIN OPENSSH PRIVATE KEY-----"
# ssh-keygen -y reads the private key and prints its public half: proof the file is usable.
must "ssh-keygen -y -f $name.pem" ssh-keygen -y -f "$name.pem"
public="$(awk '{print $1, $2}' <<<"$OUT")"
printf '%s\n' "$public" >"$name.pub"
# The fingerprint Nova shows is the MD5 one: compare with `ssh-keygen -l -E md5`.
fingerprint="$(ssh-keygen -l -E md5 -f "$name.pub" | awk '{print $2}' | sed 's/^MD5://')"

# 2. The list shows every key pair of yours by name and fingerprint.
section "list"
must "openstack keypair list" openstack keypair list
assert_match "the table has Name and Fingerprint columns" "$OUT" '\| Name +\| Fingerprint +\|'
expect_ok "openstack keypair list -f value -c Name -c Fingerprint" \
    openstack keypair list -f value -c Name -c Fingerprint
assert_contains "$name is listed with its fingerprint" "$OUT" "$name $fingerprint"

# 3. The details: when it was created (UTC), its fingerprint, and the public key itself.
section "show"
must "openstack keypair show $name -f json" openstack keypair show "$name" -f json
details="$(cat "$OUT_FILE")"
created="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["created_at"])' <<<"$details")"
assert_match "created_at is a UTC time stamp" "$created" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
age=$(($(date -u +%s) - $(date -u -d "$created" +%s)))
assert_match "created_at is within the last 10 minutes (${age}s ago)" "$age" '^[0-9]$|^[0-9]{2}$|^[1-5][0-9]{2}$'
assert_contains "show gives the fingerprint" "$details" "\"fingerprint\": \"$fingerprint\""
must "openstack keypair show --public-key $name" openstack keypair show --public-key "$name"
assert_eq "show --public-key gives the public key of $name.pem" "$OUT" "$public"

# 4. Delete it. The private key file stays where you saved it; the cloud forgets the key.
section "delete"
must "openstack keypair delete $name" openstack keypair delete "$name"
expect_ok "openstack keypair list -f value -c Name" openstack keypair list -f value -c Name
assert_not_contains "$name is no longer listed" "$OUT" "$name"
expect_rc 1 "openstack keypair show $name fails" openstack keypair show "$name"
assert_eq "... No Keypair found" "$ERR" "No Keypair found for $name"

# 5. The same life cycle with TWCC's own CLI (twcc-cli 0.6.1, `twccli mk/ls/rm key`) against
#    novakeys' TWCC front, and checks both ways that it is the same key pair store as the
#    `openstack` CLI's. Needs NOVAKEYS_TWCC_URL (the TWCC listener; tests/compat.rs sets it),
#    python3 (for the twcc-cli venv) and the novakeys binary (NOVAKEYS_BIN, else `novakeys` on
#    PATH). Creates and deletes the key pairs `twcc-cli-key` and `osc-key`.
section "the same with TWCC's own CLI (twccli)"
if [ -z "${NOVAKEYS_TWCC_URL:-}" ]; then
    if [ -n "${NOVAKEYS_WORK:-}" ]; then
        fail "NOVAKEYS_TWCC_URL is not set (tests/compat.rs sets it to novakeys' TWCC listener)"
    else
        echo "(no NOVAKEYS_TWCC_URL: the twccli part needs novakeys' TWCC front; not run)"
    fi
else
    # 0. Install twcc-cli in its own venv (it pins Click 7.0) and give it a data folder
    #    (credential file with demo's API key, log/, the cached release feed): `novakeys
    #    credentials` writes it, reading demo's API key from a store (a throwaway one here:
    #    the fixture users' keys are the same in every store), told where the TWCC front
    #    listens. twcc-cli has no endpoint option: its API host is production.host in its
    #    packaged TWCC_API.yaml, set here in a copy of the package made for this run.
    # shellcheck source=SCRIPTDIR/../twcc/venv.sh
    source "$examples_dir/../twcc/venv.sh"
    # shellcheck source=SCRIPTDIR/../twcc/cli.sh
    source "$examples_dir/../twcc/cli.sh"
    must "novakeys credentials --cloud twcc --user demo --data-path twcc-data" \
        "${NOVAKEYS_BIN:-novakeys}" credentials --cloud twcc --user demo --data-path "$PWD/twcc-data" \
        --db "$PWD/credentials.db" --twcc-bind "${NOVAKEYS_TWCC_URL#http://}"
    credentials="$OUT"
    eval "$credentials"
    twcc_cli_install "$(sed -n 's/^#   host: "\(.*\)"$/\1/p' <<<"$credentials")" "$PWD/twcc-cli"
    tname=twcc-cli-key

    # 1. Create: the CLI saves the private key as $TWCC_DATA_PATH/<name>.pem, mode 600.
    must "twccli mk key -n $tname" twccli mk key -n "$tname"
    tpem="$TWCC_DATA_PATH/$tname.pem"
    assert_eq "... says where" "$OUT" "Your keypair is in \`$tpem\` with mode 600"
    assert_eq "$tname.pem is mode 600" "$(stat -c %a "$tpem")" 600
    must "ssh-keygen -y -f $tname.pem" ssh-keygen -y -f "$tpem"
    tpublic="$(awk '{print $1, $2}' <<<"$OUT")"
    printf '%s\n' "$tpublic" >"$tname.pub"
    tfingerprint="$(ssh-keygen -l -E md5 -f "$tname.pub" | awk '{print $2}' | sed 's/^MD5://')"

    # 2. List and details through twccli.
    expect_ok "twccli ls key" twccli ls key
    assert_match "$tname is listed with its fingerprint" "$OUT" "\| $tname +\| $tfingerprint +\|"
    expect_ok "twccli ls key -n $tname -json" twccli ls key -n "$tname" -json
    assert_eq "... its public key is the one in $tname.pem" \
        "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["public_key"])' <<<"$OUT" | awk '{print $1, $2}')" "$tpublic"
    assert_match "... create_time shown in Taipei time" \
        "$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["create_time"])' <<<"$OUT")" \
        '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$'

    # 3. The same key pair through the openstack CLI (same user, same store).
    expect_ok "openstack keypair list -f value -c Name -c Fingerprint" \
        openstack keypair list -f value -c Name -c Fingerprint
    assert_contains "openstack lists $tname with the same fingerprint" "$OUT" "$tname $tfingerprint"
    expect_ok "openstack keypair show --public-key $tname" openstack keypair show --public-key "$tname"
    assert_eq "... the public key of $tname.pem" "$(awk '{print $1, $2}' <<<"$OUT")" "$tpublic"

    # 4. And the other way: a key pair made with openstack is listed by twccli.
    must "openstack keypair create osc-key > osc-key.pem" openstack keypair create osc-key
    cp "$OUT_FILE" osc-key.pem
    chmod 600 osc-key.pem
    ofingerprint="$(ssh-keygen -y -f osc-key.pem >osc-key.pub && ssh-keygen -l -E md5 -f osc-key.pub | awk '{print $2}' | sed 's/^MD5://')"
    expect_ok "twccli ls key" twccli ls key
    assert_match "twccli lists osc-key with its fingerprint" "$OUT" "\| osc-key +\| $ofingerprint +\|"

    # 5. Delete each with the other CLI. twccli leaves the .pem to you (and says so).
    expect_ok "twccli rm key -n osc-key -f" twccli rm key -n osc-key -f
    assert_eq "... Keypair: osc-key deleted." "$OUT" "Keypair: osc-key deleted."
    expect_ok "openstack keypair delete $tname" openstack keypair delete "$tname"
    expect_ok "openstack keypair list -f value -c Name" openstack keypair list -f value -c Name
    assert_not_contains "openstack no longer lists $tname" "$OUT" "$tname"
    assert_not_contains "... nor osc-key" "$OUT" "osc-key"
    expect_rc 1 "twccli ls key -n $tname" twccli ls key -n "$tname"
    assert_eq "... [TWCC-CLI] Error-Not found." "$OUT" "[TWCC-CLI] Error-Not found."
fi

finish twcc-keypair-lifecycle
