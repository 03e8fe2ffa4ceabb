"""openstacksdk 4.22.0 `Keypair` resource and cloud layer, end to end against novakeys.

Clouds come from the clouds.yaml run.sh writes: `devstack` (demo, member), `devstack-alt`
(reader), `devstack-admin` (admin). Every assertion is what real Nova returns
(shared/spec/clients.md §4 and the captures).
"""

import base64
import hashlib
import uuid

import openstack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from openstack import exceptions
from openstack import utils
from openstack.compute.v2 import keypair as _keypair


def md5_fingerprint(public_key):
    blob = base64.b64decode(public_key.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def unique(prefix="nk"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


@pytest.fixture(scope="module")
def demo():
    conn = openstack.connect(cloud="devstack")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def admin():
    conn = openstack.connect(cloud="devstack-admin")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def reader():
    conn = openstack.connect(cloud="devstack-alt")
    yield conn
    conn.close()


@pytest.fixture
def cleanup(demo, admin):
    """Deletes (name, user_id) pairs at teardown, as admin, ignoring missing ones."""
    names = []
    yield names
    for name, user_id in names:
        admin.compute.delete_keypair(name, ignore_missing=True, user_id=user_id)


def ssh_rsa_public_key(comment="imported@novakeys"):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return line.decode() + " " + comment + "\n"


def ssh_ed25519_public_key():
    key = ed25519.Ed25519PrivateKey.generate()
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def test_negotiates_2_10(demo):
    # The Keypair resource caps at 2.10; the server offers 2.1..2.104.
    assert utils.maximum_supported_microversion(demo.compute, "2.10") == "2.10"
    data = demo.compute.get_endpoint_data()
    assert data.min_microversion == (2, 1)
    assert data.max_microversion >= (2, 10)


def test_server_generated_rsa_key(demo, cleanup):
    name = unique()
    kp = demo.compute.create_keypair(name=name)
    cleanup.append((name, demo.current_user_id))
    assert isinstance(kp, _keypair.Keypair)
    assert kp.name == name and kp.id == name
    assert kp.type == "ssh"
    assert kp.user_id == demo.current_user_id
    # Nova (paramiko) hands out a PKCS#1 PEM: terraform and gophercloud grep for this.
    assert kp.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n"), kp.private_key[:40]
    assert kp.private_key.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    private = serialization.load_pem_private_key(kp.private_key.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    # The public half is the private key's, in authorized_keys form.
    fields = kp.public_key.split()
    assert fields[0] == "ssh-rsa"
    assert fields[2] == "Generated-by-Nova"
    derived = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    assert derived.split()[1] == fields[1]
    assert kp.fingerprint == md5_fingerprint(kp.public_key)

    # The private key is handed out once: show has none.
    shown = demo.compute.get_keypair(name)
    assert shown.private_key is None
    assert shown.public_key == kp.public_key
    assert shown.fingerprint == kp.fingerprint
    assert shown.is_deleted is False
    assert shown.created_at


def test_server_generated_x509(demo, cleanup):
    from cryptography import x509

    name = unique()
    kp = demo.compute.create_keypair(name=name, type="x509")
    cleanup.append((name, demo.current_user_id))
    assert kp.type == "x509"
    # Nova's generate_winrm_x509_cert: a PEM certificate for CN=<user id>, and as the
    # "private key" base64 of `openssl pkcs12 -export -password pass:` (key + cert).
    cert = x509.load_pem_x509_certificate(kp.public_key.encode())
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert cn == demo.current_user_id
    key, bundled, _ = pkcs12.load_key_and_certificates(base64.b64decode(kp.private_key), b"")
    assert bundled == cert
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    digest = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert kp.fingerprint == ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    shown = demo.compute.get_keypair(name)
    assert shown.type == "x509"
    assert shown.public_key == kp.public_key


@pytest.mark.parametrize("make_key", [ssh_rsa_public_key, ssh_ed25519_public_key])
def test_import(demo, cleanup, make_key):
    public_key = make_key()
    name = unique()
    kp = demo.compute.create_keypair(name=name, public_key=public_key)
    cleanup.append((name, demo.current_user_id))
    assert kp.name == name
    assert kp.private_key is None
    # Stored verbatim, trailing newline included.
    assert kp.public_key == public_key
    assert kp.fingerprint == md5_fingerprint(public_key)
    assert kp.type == "ssh"
    assert kp.user_id == demo.current_user_id
    assert demo.compute.get_keypair(name).public_key == public_key


def test_get_find_list(demo, reader, cleanup):
    name = unique()
    demo.compute.create_keypair(name=name, public_key=ssh_ed25519_public_key())
    cleanup.append((name, demo.current_user_id))

    got = demo.compute.get_keypair(name)
    assert (got.name, got.id, got.type, got.user_id) == (name, name, "ssh", demo.current_user_id)
    got = demo.compute.get_keypair(_keypair.Keypair(name=name))
    assert got.name == name

    found = demo.compute.find_keypair(name, ignore_missing=False)
    assert found.name == name and found.id == name
    assert demo.compute.find_keypair(unique("missing")) is None
    with pytest.raises(exceptions.NotFoundException):
        demo.compute.find_keypair(unique("missing"), ignore_missing=False)
    with pytest.raises(exceptions.NotFoundException):
        demo.compute.get_keypair(unique("missing"))

    listed = {k.name: k for k in demo.compute.keypairs()}
    assert name in listed
    assert listed[name].fingerprint == got.fingerprint
    assert listed[name].public_key == got.public_key
    # Key pairs belong to the user, not the project: reader (same project) sees none of demo's.
    assert name not in {k.name for k in reader.compute.keypairs()}
    assert reader.compute.find_keypair(name) is None

    assert demo.compute.delete_keypair(name, ignore_missing=False) is None
    assert name not in {k.name for k in demo.compute.keypairs()}
    with pytest.raises(exceptions.NotFoundException):
        demo.compute.delete_keypair(name, ignore_missing=False)
    assert demo.compute.delete_keypair(name) is None


def test_duplicate_name_conflicts(demo, cleanup):
    name = unique()
    demo.compute.create_keypair(name=name, public_key=ssh_ed25519_public_key())
    cleanup.append((name, demo.current_user_id))
    with pytest.raises(exceptions.ConflictException) as exc:
        demo.compute.create_keypair(name=name, public_key=ssh_ed25519_public_key())
    assert "Key pair '%s' already exists." % name in str(exc.value)


def test_bad_public_key_is_400(demo):
    with pytest.raises(exceptions.BadRequestException):
        demo.compute.create_keypair(name=unique(), public_key="ssh-rsa JUNK nova@ubuntu")


def test_admin_manages_another_users_keypairs(demo, admin, cleanup):
    demo_id = demo.current_user_id
    assert admin.current_user_id != demo_id
    name = unique("other")
    public_key = ssh_rsa_public_key()
    kp = admin.compute.create_keypair(name=name, public_key=public_key, user_id=demo_id)
    cleanup.append((name, demo_id))
    assert kp.user_id == demo_id
    assert kp.public_key == public_key

    got = admin.compute.get_keypair(name, user_id=demo_id)
    assert (got.name, got.user_id, got.public_key) == (name, demo_id, public_key)
    # It is demo's key: not in the admin's own list, nor fetchable without user_id.
    assert name not in {k.name for k in admin.compute.keypairs()}
    with pytest.raises(exceptions.NotFoundException):
        admin.compute.get_keypair(name)
    assert name in {k.name for k in admin.compute.keypairs(user_id=demo_id)}
    assert name in {k.name for k in demo.compute.keypairs()}
    assert demo.compute.get_keypair(name).fingerprint == kp.fingerprint

    # A server-generated key for another user.
    gen = unique("othergen")
    kp = admin.compute.create_keypair(name=gen, user_id=demo_id)
    cleanup.append((gen, demo_id))
    assert kp.user_id == demo_id
    assert kp.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")

    admin.compute.delete_keypair(name, ignore_missing=False, user_id=demo_id)
    assert demo.compute.find_keypair(name) is None
    with pytest.raises(exceptions.NotFoundException):
        admin.compute.delete_keypair(name, ignore_missing=False, user_id=demo_id)


def test_member_cannot_act_for_another_user(demo, admin):
    with pytest.raises(exceptions.ForbiddenException):
        demo.compute.create_keypair(
            name=unique(), public_key=ssh_ed25519_public_key(), user_id=admin.current_user_id
        )
    with pytest.raises(exceptions.ForbiddenException):
        list(demo.compute.keypairs(user_id=admin.current_user_id))


def test_cloud_layer(demo):
    name = unique("cloud")
    kp = demo.create_keypair(name)
    assert kp["name"] == name
    assert kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert kp["public_key"] and kp["fingerprint"]
    assert kp["type"] == "ssh"
    assert name in [k["name"] for k in demo.list_keypairs()]
    assert demo.get_keypair(name)["fingerprint"] == kp["fingerprint"]
    assert demo.delete_keypair(name) is True
    assert name not in [k["name"] for k in demo.list_keypairs()]
    assert demo.delete_keypair(name) is False

    public_key = ssh_rsa_public_key("Generated-by-Nova")
    name = unique("cloud")
    kp = demo.create_keypair(name, public_key=public_key)
    assert kp["private_key"] is None
    assert kp["public_key"] == public_key
    assert kp["fingerprint"] == md5_fingerprint(public_key)
    assert demo.delete_keypair(name) is True
