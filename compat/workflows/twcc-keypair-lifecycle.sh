#!/usr/bin/env bash
# Key pair life cycle, as TWCC (Taiwan Computing Cloud) documents it for its CLI users:
# create a key pair and keep the private key as a .pem, see it in the list, look at its
# details, delete it.
#
# Needs: the `openstack` CLI logged in to a project (here OS_CLOUD, set by run.sh, picks a
# clouds.yaml entry), ssh-keygen. Run it in a scratch directory: it writes twcc-key.pem.
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

finish twcc-keypair-lifecycle
