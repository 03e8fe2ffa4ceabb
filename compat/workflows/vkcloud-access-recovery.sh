#!/usr/bin/env bash
# Access recovery, the way VK Cloud's documentation walks through it: the private key of key
# pair `old` is lost, so make a new key pair, check the public key the cloud holds matches
# the private key you kept, also register an RSA key you already have (e.g. from your laptop),
# and delete the old key pair so nobody can use the lost key to get into new servers.
#
# Needs: the `openstack` CLI logged in to a project (OS_CLOUD, set by run.sh), ssh-keygen.
# Run it in a scratch directory.
set -euo pipefail
examples_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../python/check.sh
source "$examples_dir/../python/check.sh"

# 0. The situation: a key pair `old` whose private key is gone.
section "the key pair whose private key was lost"
must "openstack keypair create old" openstack keypair create old
# (the private key on stdout is thrown away here: that is the loss)

# 1. A new key pair; --private-key writes the private key straight to a file.
section "new key pair"
must "openstack keypair create --private-key new.pem new" openstack keypair create --private-key new.pem new
assert_match "the table names the key" "$OUT" "\\| name +\\| new +\\|"
chmod 600 new.pem
assert_eq "new.pem holds an OpenSSH private key" "$(head -n1 new.pem)" "-----BEGIN OPENSSH PRIVATE KEY-----"

# 2. The cloud's copy of the public key must belong to new.pem: compare with ssh-keygen -y.
must "openstack keypair show --public-key new" openstack keypair show --public-key new
cloud_public="$OUT"
must "ssh-keygen -y -f new.pem" ssh-keygen -y -f new.pem
assert_eq "the cloud's public key is new.pem's" "$(awk '{print $1, $2}' <<<"$cloud_public")" "$(awk '{print $1, $2}' <<<"$OUT")"

# 3. Register an existing ssh-rsa key (here made on the spot) under a new name.
section "import an existing RSA public key"
ssh-keygen -q -t rsa -b 3072 -N '' -C 'me@laptop' -f laptop_rsa
must "openstack keypair create --public-key laptop_rsa.pub laptop" \
    openstack keypair create --public-key laptop_rsa.pub laptop -f value -c fingerprint
assert_eq "its fingerprint is ssh-keygen's" "$OUT" "$(ssh-keygen -l -E md5 -f laptop_rsa.pub | awk '{print $2}' | sed 's/^MD5://')"
must "openstack keypair show --public-key laptop" openstack keypair show --public-key -f value laptop
assert_same_file "the cloud keeps laptop_rsa.pub as it was sent" "$OUT_FILE" laptop_rsa.pub
assert_match "... an ssh-rsa key" "$OUT" '^ssh-rsa AAAA[^ ]+ me@laptop$'

# 4. Delete the old key pair; new and laptop remain.
section "delete the old key pair"
must "openstack keypair delete old" openstack keypair delete old
expect_ok "openstack keypair list -f value -c Name" openstack keypair list -f value -c Name
assert_eq "only laptop and new are left" "$OUT" "$(printf 'laptop\nnew')"

# Tidy up (a real user keeps these, of course).
expect_ok "openstack keypair delete new laptop" openstack keypair delete new laptop

finish vkcloud-access-recovery
