"""tencentcloud-sdk-python (common 3.1.195 + cvm 3.1.178), unmodified, against novakeys' Tencent front.

Every test runs once per client mode (`MODES`): TC3-HMAC-SHA256 over POST JSON and over GET, and
the legacy v1 signatures (HmacSHA256 POST form and GET query, HmacSHA1 POST form), chosen only
through the SDK's own ClientProfile(signMethod=…) and HttpProfile(reqMethod=…).

Each test starts from POST /_novakeys/reset. Requests are built the SDK's documented way
(`models.XRequest().from_json_string(...)` and the typed client method; `client.call_json` where
a request the models cannot express is needed, i.e. an unknown field). Every answer is also
checked raw, through a `requests` response hook on the SDK's own session: HTTP 200, Content-Type
exactly `application/json` (anything else makes this SDK swallow errors), the
`{"Response": {…, "RequestId"}}` envelope, one HTTP request per call.

Expected values are what real Tencent Cloud answers (shared/spec/seed-clouds.md §2); codes that
the spec marks as an emulator decision ([inferred]) are collected in `CODES` below.
"""

import base64
import json
import os
import re
import subprocess
import tempfile
import urllib.request

import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models

URL = os.environ["NOVAKEYS_TENCENT_URL"].rstrip("/")
ENDPOINT = URL.split("://", 1)[1]  # the SDK wants host:port, scheme via protocol=
REGION = "ap-guangzhou"

CREDS = {
    "admin": ("AKIDNovakeysAdmin0000000000000000001", "NovakeysAdminTencentSecretKey001"),
    "demo": ("AKIDNovakeysDemo00000000000000000001", "NovakeysDemoTencentSecretKey0001"),
    "reader": ("AKIDNovakeysReader000000000000000001", "NovakeysReaderTencentSecretKey01"),
}

MODES = {
    "tc3-post": ("TC3-HMAC-SHA256", "POST"),
    "tc3-get": ("TC3-HMAC-SHA256", "GET"),
    "hmacsha256-post": ("HmacSHA256", "POST"),
    "hmacsha256-get": ("HmacSHA256", "GET"),
    "hmacsha1-post": ("HmacSHA1", "POST"),
}

# Codes real CVM documents for the case but where the spec had to pick one ([inferred] in
# seed-clouds.md §2.4/§2.5); one place to change if novakeys settles differently.
CODES = {
    "ids_and_filters": "InvalidParameter",
    "limit_range": "InvalidParameterValueLimit",
    "offset_range": "InvalidParameterValueOffset",
    "delete_bound": "InvalidParameterValue.KeyPairNotSupported",
    "over_100": "InvalidParameterValue.LimitExceeded",
    "description_too_long": "InvalidParameterValue",
    # the API 3.0 common code for a CAM denial (common error table: "请求未授权。请参考 CAM 文档对鉴权的说明。")
    "permission": "AuthFailure.UnauthorizedOperation",
    "region": "UnsupportedRegion",
}

KEY_ID = re.compile(r"^skey-[a-z0-9]{8}$")
INSTANCE_ID = re.compile(r"^ins-[a-z0-9]{8}$")
CREATED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEYPAIR_FIELDS = {"KeyId", "KeyName", "ProjectId", "Description", "PublicKey", "AssociatedInstanceIds",
                  "CreatedTime", "Tags"}

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ------------------------------------------------------------------ test controls

def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with _opener.open(req, timeout=30) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def make_instance(state="stopped", os_type="linux", user="demo", project="demo", name="vm"):
    status, body = control("POST", "/_novakeys/instances", {
        "cloud": "tencent", "name": name, "user": user, "project": project, "os": os_type, "state": state})
    assert status == 201, (status, body)
    inst = body["instance"]
    assert INSTANCE_ID.match(inst["id"]), inst
    return inst["id"]


def instance(iid):
    status, body = control("GET", "/_novakeys/instances/" + iid)
    assert status == 200, (status, body)
    return body.get("instance", body)


@pytest.fixture(autouse=True)
def fresh_server():
    status, body = control("POST", "/_novakeys/reset", {})
    assert status == 204, ("POST /_novakeys/reset", status, body)
    yield
    control("POST", "/_novakeys/clock", {"set": None})


# ------------------------------------------------------------------ keys made locally

def ssh_keygen(kind, bits=None):
    with tempfile.TemporaryDirectory() as d:
        args = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "compat@tencent", "-f", d + "/k"]
        if bits:
            args += ["-b", str(bits)]
        subprocess.run(args, check=True)
        with open(d + "/k.pub") as f:
            return f.read().strip()


@pytest.fixture(scope="session")
def rsa_pool():
    """25 distinct OpenSSH RSA public keys (paging needs > 20)."""
    return [ssh_keygen("rsa", 2048) for _ in range(25)]


class Pool:
    """Hands out distinct public keys from rsa_pool; key pairs that need not be generated by the
    server are imported (a server in a debug build generates RSA keys slowly)."""

    def __init__(self, keys):
        self.keys = list(keys)

    def next(self):
        return self.keys.pop(0)


@pytest.fixture
def pool(rsa_pool):
    return Pool(rsa_pool)


@pytest.fixture(scope="session")
def ed25519_pub():
    return ssh_keygen("ed25519")


def blob(public_key):
    return public_key.split()[1]


def public_from_private(pem):
    with tempfile.TemporaryDirectory() as d:
        path = d + "/id"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        out = subprocess.run(["ssh-keygen", "-y", "-f", path], check=True, capture_output=True, text=True)
        return out.stdout.strip()


# ------------------------------------------------------------------ the SDK, unmodified

class Tc:
    """One CvmClient plus the raw HTTP responses its own requests.Session received."""

    def __init__(self, mode, user="demo", secret_id=None, secret_key=None, region=REGION, unsigned=False):
        sign, method = MODES[mode]
        sid, skey = CREDS[user]
        hp = HttpProfile(endpoint=ENDPOINT, protocol="http", reqMethod=method, reqTimeout=30)
        cp = ClientProfile(signMethod=sign, httpProfile=hp)
        if unsigned:
            cp.unsignedPayload = True
        cred = credential.Credential(secret_id or sid, secret_key or skey)
        self.mode = mode
        self.method = method
        self.client = cvm_client.CvmClient(cred, region, cp)
        self.raw = []
        self.client.request.conn._session.hooks["response"].append(self._keep)

    def _keep(self, response, *args, **kwargs):
        self.raw.append(response)

    def _raw_since(self, n, what):
        assert len(self.raw) == n + 1, "%s: expected exactly one HTTP request, saw %d" % (what, len(self.raw) - n)
        r = self.raw[-1]
        assert r.request.method == self.method, (what, r.request.method)
        assert r.status_code == 200, (what, r.status_code, r.text)
        assert r.headers.get("Content-Type") == "application/json", \
            "%s: Content-Type must be exactly application/json (the SDK ignores Error otherwise), got %r" % (
                what, r.headers.get("Content-Type"))
        body = r.json()
        assert list(body) == ["Response"], (what, body)
        rid = body["Response"].get("RequestId")
        assert isinstance(rid, str) and rid, (what, body)
        return body["Response"]

    def call(self, action, **fields):
        """The typed SDK call; returns (response model, raw Response object)."""
        req = getattr(models, action + "Request")()
        req.from_json_string(json.dumps(fields))
        n = len(self.raw)
        resp = getattr(self.client, action)(req)
        raw = self._raw_since(n, action)
        assert "Error" not in raw, (action, raw)
        assert resp.RequestId == raw["RequestId"]
        return resp, raw

    def error(self, code, action, raw_json=False, **fields):
        """The call must raise TencentCloudSDKException(code) from a genuine Tencent error body."""
        n = len(self.raw)
        with pytest.raises(TencentCloudSDKException) as info:
            if raw_json:
                self.client.call_json(action, fields)
            else:
                req = getattr(models, action + "Request")()
                req.from_json_string(json.dumps(fields))
                getattr(self.client, action)(req)
        e = info.value
        raw = self._raw_since(n, action)
        assert set(raw) == {"Error", "RequestId"}, (action, raw)
        assert set(raw["Error"]) == {"Code", "Message"}, (action, raw)
        assert e.get_code() == code, "%s %s: expected %s, got %s (%s)" % (
            self.mode, action, code, e.get_code(), e.get_message())
        assert isinstance(e.get_message(), str) and e.get_message().strip(), raw
        assert e.get_request_id() == raw["RequestId"]
        return e

    # shortcuts
    def create(self, name, project_id=0, tags=None):
        fields = {"KeyName": name, "ProjectId": project_id}
        if tags:
            fields["TagSpecification"] = [{"ResourceType": "keypair",
                                           "Tags": [{"Key": k, "Value": v} for k, v in tags]}]
        resp, raw = self.call("CreateKeyPair", **fields)
        return resp.KeyPair, raw["KeyPair"]

    def import_(self, name, public_key, project_id=0, tags=None):
        fields = {"KeyName": name, "ProjectId": project_id, "PublicKey": public_key}
        if tags:
            fields["TagSpecification"] = [{"ResourceType": "keypair",
                                           "Tags": [{"Key": k, "Value": v} for k, v in tags]}]
        resp, raw = self.call("ImportKeyPair", **fields)
        assert KEY_ID.match(resp.KeyId), resp.KeyId
        return resp.KeyId

    def describe(self, **fields):
        resp, raw = self.call("DescribeKeyPairs", **fields)
        return resp, raw

    def ids(self, **fields):
        resp, _ = self.describe(**fields)
        return sorted(k.KeyId for k in resp.KeyPairSet)

    def one(self, key_id):
        resp, raw = self.describe(KeyIds=[key_id])
        assert resp.TotalCount == 1, raw
        return resp.KeyPairSet[0], raw["KeyPairSet"][0]


@pytest.fixture(params=list(MODES))
def mode(request):
    return request.param


@pytest.fixture
def demo(mode):
    return Tc(mode)


# ------------------------------------------------------------------ create / import

def test_create_key_pair(demo):
    kp, raw = demo.create("ci_create", tags=[("env", "a b/c")])
    assert KEY_ID.match(kp.KeyId), kp.KeyId
    assert kp.KeyName == "ci_create"
    assert raw["ProjectId"] == 0 and type(raw["ProjectId"]) is int
    assert raw["AssociatedInstanceIds"] == []
    assert raw["Tags"] == [{"Key": "env", "Value": "a b/c"}]
    # OpenSSH RSA public key whose comment is the key id
    parts = kp.PublicKey.split()
    assert parts[0] == "ssh-rsa" and parts[-1] == kp.KeyId, kp.PublicKey
    # PKCS#1 private key, once, matching the public key
    assert kp.PrivateKey.startswith("-----BEGIN RSA PRIVATE KEY-----\n"), kp.PrivateKey[:40]
    assert kp.PrivateKey.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    assert blob(public_from_private(kp.PrivateKey)) == blob(kp.PublicKey)
    listed, listed_raw = demo.one(kp.KeyId)
    assert listed_raw.get("PrivateKey") is None, "the private key is returned once, by CreateKeyPair only"
    assert listed.PublicKey == kp.PublicKey
    assert listed.KeyName == "ci_create"


def test_describe_shape_and_types(demo):
    kp, _ = demo.create("ci_shape")
    resp, raw = demo.describe()
    assert type(raw["TotalCount"]) is int and raw["TotalCount"] == 1
    assert isinstance(raw["KeyPairSet"], list) and len(raw["KeyPairSet"]) == 1
    item = raw["KeyPairSet"][0]
    assert KEYPAIR_FIELDS <= set(item), sorted(item)
    assert set(item) <= KEYPAIR_FIELDS | {"PrivateKey"}, sorted(item)
    assert item["KeyId"] == kp.KeyId and item["KeyName"] == "ci_shape"
    assert type(item["ProjectId"]) is int and item["ProjectId"] == 0
    assert item["Description"] == ""
    assert item["AssociatedInstanceIds"] == []
    assert isinstance(item["CreatedTime"], str) and CREATED.match(item["CreatedTime"]), item["CreatedTime"]
    assert item["Tags"] == []
    assert resp.TotalCount == 1 and resp.KeyPairSet[0].KeyId == kp.KeyId


def test_import_key_pair(demo, rsa_pool, ed25519_pub):
    kid = demo.import_("ci_import", rsa_pool[0])
    assert KEY_ID.match(kid), kid
    kp, raw = demo.one(kid)
    assert kp.KeyName == "ci_import" and raw["ProjectId"] == 0
    assert blob(kp.PublicKey) == blob(rsa_pool[0])
    assert raw.get("PrivateKey") is None
    # the same public key again, under another name
    demo.error("InvalidPublicKey.Duplicate", "ImportKeyPair", KeyName="ci_import2", ProjectId=0,
               PublicKey=rsa_pool[0])
    demo.error("InvalidPublicKey.Malformed", "ImportKeyPair", KeyName="ci_bad", ProjectId=0,
               PublicKey="ssh-rsa this-is-not-base64 x")
    demo.error("InvalidPublicKey.Malformed", "ImportKeyPair", KeyName="ci_ed", ProjectId=0, PublicKey=ed25519_pub)
    demo.error("MissingParameter", "ImportKeyPair", KeyName="ci_nopub", ProjectId=0)
    assert demo.ids() == [kid]


def test_key_name_rules(demo, rsa_pool):
    demo.create("a" * 25)
    for action, extra in (("CreateKeyPair", {}), ("ImportKeyPair", {"PublicKey": rsa_pool[1]})):
        demo.error("InvalidKeyPairNameEmpty", action, KeyName="", ProjectId=0, **extra)
        demo.error("InvalidKeyPairNameTooLong", action, KeyName="b" * 26, ProjectId=0, **extra)
        demo.error("InvalidKeyPairNameIncludeIllegalChar", action, KeyName="bad-name", ProjectId=0, **extra)
        demo.error("InvalidKeyPairNameIncludeIllegalChar", action, KeyName="bad.name", ProjectId=0, **extra)
        demo.error("InvalidKeyPairName.Duplicate", action, KeyName="a" * 25, ProjectId=0, **extra)
    assert len(demo.ids()) == 1


def test_project_id_required(demo, rsa_pool):
    e = demo.error("MissingParameter", "CreateKeyPair", KeyName="ci_noproject")
    assert "ProjectId" in e.get_message(), e.get_message()
    e = demo.error("MissingParameter", "ImportKeyPair", KeyName="ci_noproject", PublicKey=rsa_pool[2])
    assert "ProjectId" in e.get_message(), e.get_message()
    demo.error("MissingParameter", "CreateKeyPair", ProjectId=0)
    demo.error("InvalidProjectId.NotFound", "CreateKeyPair", KeyName="ci_project", ProjectId=987654)
    demo.error("InvalidProjectId.NotFound", "ImportKeyPair", KeyName="ci_project", ProjectId=987654,
               PublicKey=rsa_pool[2])
    assert demo.ids() == []


# ------------------------------------------------------------------ describe

def test_describe_filters(demo, pool):
    a = demo.import_("ci_alpha", pool.next(), tags=[("env", "dev")])
    b = demo.import_("ci_beta", pool.next(), tags=[("env", "prod")])
    c = demo.import_("ci_gamma", pool.next(), tags=[("team", "x y")])

    def by(*filters):
        return demo.ids(Filters=[{"Name": n, "Values": v} for n, v in filters])

    assert by(("key-name", ["ci_alpha"])) == [a]
    assert by(("key-name", ["ci_alpha", "ci_gamma"])) == sorted([a, c])
    assert by(("key-name", ["no_such_key"])) == []
    assert by(("project-id", ["0"])) == sorted([a, b, c])
    assert by(("project-id", ["12345"])) == []
    assert by(("tag-key", ["env"])) == sorted([a, b])
    assert by(("tag-value", ["prod"])) == [b]
    assert by(("tag-value", ["x y"])) == [c]
    assert by(("tag:env", ["dev"])) == [a]
    assert by(("tag:env", ["dev", "prod"])) == sorted([a, b])
    assert by(("tag:team", ["dev"])) == []
    # several filters: all must match
    assert by(("tag-key", ["env"]), ("tag-value", ["prod"])) == [b]
    assert by(("key-name", ["ci_alpha"]), ("tag:env", ["prod"])) == []
    resp, raw = demo.describe(Filters=[{"Name": "tag:team", "Values": ["x y"]}])
    assert raw["TotalCount"] == 1 and raw["KeyPairSet"][0]["Tags"] == [{"Key": "team", "Value": "x y"}]
    demo.error("InvalidFilter", "DescribeKeyPairs", Filters=[{"Name": "fingerprint", "Values": ["x"]}])


def test_describe_key_ids(demo, pool):
    a = demo.import_("ci_one", pool.next())
    b = demo.import_("ci_two", pool.next())
    c = demo.import_("ci_three", pool.next())
    assert demo.ids(KeyIds=[a, c]) == sorted([a, c])
    resp, raw = demo.describe(KeyIds=[b])
    assert raw["TotalCount"] == 1 and raw["KeyPairSet"][0]["KeyName"] == "ci_two"
    assert demo.ids(KeyIds=["skey-zzzzzzzz"]) == []
    demo.error("InvalidKeyPairId.Malformed", "DescribeKeyPairs", KeyIds=["skey-1122"])
    demo.error("InvalidKeyPairId.Malformed", "DescribeKeyPairs", KeyIds=["ci_one"])
    demo.error(CODES["ids_and_filters"], "DescribeKeyPairs", KeyIds=[a],
               Filters=[{"Name": "key-name", "Values": ["ci_one"]}])


def test_describe_paging(demo, rsa_pool):
    made = sorted(demo.import_("ci_page_%02d" % i, rsa_pool[i]) for i in range(21))
    resp, raw = demo.describe()
    assert raw["TotalCount"] == 21 and len(raw["KeyPairSet"]) == 20, "Limit defaults to 20"
    first = [k["KeyId"] for k in raw["KeyPairSet"]]
    resp, raw = demo.describe(Offset=20)
    assert raw["TotalCount"] == 21 and len(raw["KeyPairSet"]) == 1
    assert sorted(first + [raw["KeyPairSet"][0]["KeyId"]]) == made, "pages overlap or miss keys"
    resp, raw = demo.describe(Offset=5, Limit=3)
    assert raw["TotalCount"] == 21 and len(raw["KeyPairSet"]) == 3
    resp, raw = demo.describe(Limit=100)
    assert raw["TotalCount"] == 21 and sorted(k["KeyId"] for k in raw["KeyPairSet"]) == made
    resp, raw = demo.describe(Offset=21)
    assert raw["TotalCount"] == 21 and raw["KeyPairSet"] == []
    resp, raw = demo.describe(Filters=[{"Name": "key-name", "Values": ["ci_page_03"]}], Limit=1)
    assert raw["TotalCount"] == 1 and raw["KeyPairSet"][0]["KeyName"] == "ci_page_03"
    demo.error(CODES["limit_range"], "DescribeKeyPairs", Limit=101)
    demo.error(CODES["offset_range"], "DescribeKeyPairs", Offset=-1)
    demo.error(CODES["over_100"], "DescribeKeyPairs", KeyIds=["skey-%08d" % i for i in range(101)])


# ------------------------------------------------------------------ modify

def test_modify_key_pair_attribute(demo, pool):
    kp = demo.one(demo.import_("ci_old", pool.next()))[0]
    other = demo.one(demo.import_("ci_other", pool.next()))[0]
    demo.call("ModifyKeyPairAttribute", KeyId=kp.KeyId, KeyName="ci_new")
    renamed, raw = demo.one(kp.KeyId)
    assert renamed.KeyId == kp.KeyId and renamed.KeyName == "ci_new"
    assert renamed.PublicKey == kp.PublicKey, "a rename keeps the key"
    assert raw["CreatedTime"] and renamed.CreatedTime == kp.CreatedTime
    assert demo.ids(Filters=[{"Name": "key-name", "Values": ["ci_old"]}]) == []
    demo.import_("ci_old", pool.next())  # the old name is free again
    demo.call("ModifyKeyPairAttribute", KeyId=kp.KeyId, Description="d" * 60)
    assert demo.one(kp.KeyId)[1]["Description"] == "d" * 60
    demo.call("ModifyKeyPairAttribute", KeyId=kp.KeyId, KeyName="ci_newer", Description="for CI, see #42 / 密钥")
    kp2, raw = demo.one(kp.KeyId)
    assert kp2.KeyName == "ci_newer" and raw["Description"] == "for CI, see #42 / 密钥"
    demo.error(CODES["description_too_long"], "ModifyKeyPairAttribute", KeyId=kp.KeyId, Description="d" * 61)
    demo.error("InvalidKeyPairName.Duplicate", "ModifyKeyPairAttribute", KeyId=kp.KeyId, KeyName="ci_other")
    demo.error("MissingParameter", "ModifyKeyPairAttribute", KeyId=kp.KeyId)
    demo.error("MissingParameter", "ModifyKeyPairAttribute", KeyName="ci_x")
    demo.error("InvalidKeyPairId.NotFound", "ModifyKeyPairAttribute", KeyId="skey-zzzzzzzz", KeyName="ci_x")
    demo.error("InvalidKeyPairId.Malformed", "ModifyKeyPairAttribute", KeyId="skey-1122", KeyName="ci_x")
    final, raw = demo.one(kp.KeyId)
    assert final.KeyName == "ci_newer" and raw["Description"] == "for CI, see #42 / 密钥"
    assert demo.one(other.KeyId)[0].KeyName == "ci_other"


# ------------------------------------------------------------------ delete

def test_delete_key_pairs(demo, pool):
    a = demo.import_("ci_del_a", pool.next())
    b = demo.import_("ci_del_b", pool.next())
    c = demo.import_("ci_del_c", pool.next())
    demo.call("DeleteKeyPairs", KeyIds=[a, c])
    assert demo.ids() == [b]
    demo.error("InvalidKeyPairId.NotFound", "DeleteKeyPairs", KeyIds=[a])
    demo.error("InvalidKeyPairId.Malformed", "DeleteKeyPairs", KeyIds=["skey-1122"])
    demo.error(CODES["over_100"], "DeleteKeyPairs", KeyIds=["skey-%08d" % i for i in range(101)])
    demo.error("MissingParameter", "DeleteKeyPairs")
    assert demo.ids() == [b]
    demo.call("DeleteKeyPairs", KeyIds=[b])
    assert demo.ids() == []


# ------------------------------------------------------------------ associate / disassociate

def test_associate_and_disassociate(demo, pool):
    a = demo.import_("ci_bind_a", pool.next())
    b = demo.import_("ci_bind_b", pool.next())
    stopped = make_instance("stopped")
    running = make_instance("running")
    windows = make_instance("stopped", "windows")

    demo.call("AssociateInstancesKeyPairs", InstanceIds=[stopped], KeyIds=[a])
    assert demo.one(a)[1]["AssociatedInstanceIds"] == [stopped]
    assert instance(stopped)["key_pair_name"] == "ci_bind_a"

    # running instances only with ForceStop, which stops them, binds the key and (CVM's API
    # doc: "如实例原状态为 RUNNING，绑定完成后实例会自动开机") starts them again
    demo.error("UnsupportedOperation.InstanceStateRunning", "AssociateInstancesKeyPairs",
               InstanceIds=[running], KeyIds=[a])
    demo.error("UnsupportedOperation.InstanceStateRunning", "AssociateInstancesKeyPairs",
               InstanceIds=[running], KeyIds=[a], ForceStop=False)
    assert instance(running)["state"] == "running" and not instance(running).get("key_pair_name")
    demo.call("AssociateInstancesKeyPairs", InstanceIds=[running], KeyIds=[a], ForceStop=True)
    assert instance(running)["state"] == "running"
    assert instance(running)["key_pair_name"] == "ci_bind_a"
    assert demo.one(a)[1]["AssociatedInstanceIds"] == sorted([stopped, running])

    demo.error("UnsupportedOperation.InstanceOsWindows", "AssociateInstancesKeyPairs",
               InstanceIds=[windows], KeyIds=[b])
    demo.error("InvalidInstanceId.Malformed", "AssociateInstancesKeyPairs", InstanceIds=["ins-1122"],
               KeyIds=[b])
    demo.error("InvalidInstanceId.NotFound", "AssociateInstancesKeyPairs", InstanceIds=["ins-zzzzzzzz"],
               KeyIds=[b])
    demo.error("InvalidKeyPairId.NotFound", "AssociateInstancesKeyPairs", InstanceIds=[stopped],
               KeyIds=["skey-zzzzzzzz"])
    demo.error("InvalidKeyPairId.Malformed", "AssociateInstancesKeyPairs", InstanceIds=[stopped],
               KeyIds=["skey-1122"])
    demo.error(CODES["over_100"], "AssociateInstancesKeyPairs",
               InstanceIds=["ins-%08d" % i for i in range(101)], KeyIds=[b])
    demo.error("MissingParameter", "AssociateInstancesKeyPairs", InstanceIds=[stopped])
    # another user's instance does not exist for demo
    admins = make_instance("stopped", user="admin", project="admin")
    demo.error("InvalidInstanceId.NotFound", "AssociateInstancesKeyPairs", InstanceIds=[admins],
               KeyIds=[b])
    assert demo.one(b)[1]["AssociatedInstanceIds"] == []
    assert instance(windows).get("key_pair_name") in (None, "")

    # bound keys cannot be deleted through Tencent; the whole call fails
    demo.error(CODES["delete_bound"], "DeleteKeyPairs", KeyIds=[a])
    demo.error(CODES["delete_bound"], "DeleteKeyPairs", KeyIds=[b, a])
    assert demo.ids() == sorted([a, b])

    # disassociate: same state rules
    other_running = make_instance("running")
    demo.error("UnsupportedOperation.InstanceStateRunning", "DisassociateInstancesKeyPairs",
               InstanceIds=[other_running], KeyIds=[a])
    demo.error("UnsupportedOperation.InstanceOsWindows", "DisassociateInstancesKeyPairs",
               InstanceIds=[windows], KeyIds=[a])
    demo.error("InvalidInstanceId.NotFound", "DisassociateInstancesKeyPairs", InstanceIds=["ins-zzzzzzzz"],
               KeyIds=[a])
    demo.call("DisassociateInstancesKeyPairs", InstanceIds=[stopped], KeyIds=[a])
    assert demo.one(a)[1]["AssociatedInstanceIds"] == [running]
    assert instance(stopped).get("key_pair_name") in (None, "")
    demo.error("UnsupportedOperation.InstanceStateRunning", "DisassociateInstancesKeyPairs",
               InstanceIds=[running], KeyIds=[a])
    demo.call("DisassociateInstancesKeyPairs", InstanceIds=[running], KeyIds=[a], ForceStop=True)
    assert instance(running)["state"] == "running" and not instance(running).get("key_pair_name")
    assert demo.one(a)[1]["AssociatedInstanceIds"] == []
    # unbound now: deletable
    demo.call("DeleteKeyPairs", KeyIds=[a, b])
    assert demo.ids() == []


# ------------------------------------------------------------------ request hygiene

def test_unknown_parameter(demo):
    e = demo.error("UnknownParameter", "DescribeKeyPairs", raw_json=True, Bogus=1)
    assert "Bogus" in e.get_message(), e.get_message()
    demo.error("UnknownParameter", "CreateKeyPair", raw_json=True, KeyName="ci_unknown", ProjectId=0,
               Fingerprint="x")
    assert demo.ids() == [], "a refused request creates nothing"
    # the same field set without the unknown one goes through call_json too
    out = demo.client.call_json("CreateKeyPair", {"KeyName": "ci_unknown", "ProjectId": 0})
    assert KEY_ID.match(out["Response"]["KeyPair"]["KeyId"])


def test_unknown_region(mode):
    tc = Tc(mode, region="ap-nowhere")
    tc.error(CODES["region"], "DescribeKeyPairs")


# ------------------------------------------------------------------ signatures

def test_signature_failures(mode):
    good = Tc(mode)
    Tc(mode, secret_key="NotTheDemoSecretKey0000000000000").error("AuthFailure.SignatureFailure", "DescribeKeyPairs")
    Tc(mode, secret_key="NotTheDemoSecretKey0000000000000").error(
        "AuthFailure.SignatureFailure", "CreateKeyPair", KeyName="ci_sig", ProjectId=0)
    Tc(mode, secret_id="AKIDNovakeysNobody000000000000000001").error(
        "AuthFailure.SecretIdNotFound", "DescribeKeyPairs")
    # another user's secret with demo's id is just a wrong signature
    Tc(mode, secret_key=CREDS["admin"][1]).error("AuthFailure.SignatureFailure", "DescribeKeyPairs")
    try:
        for seconds in (600, -600):
            status, body = control("POST", "/_novakeys/clock", {"set": None})
            assert status in (200, 204), (status, body)
            status, body = control("POST", "/_novakeys/clock", {"advance_seconds": seconds})
            assert status in (200, 204), (status, body)
            good.error("AuthFailure.SignatureExpire", "DescribeKeyPairs")
            good.error("AuthFailure.SignatureExpire", "CreateKeyPair", KeyName="ci_sig", ProjectId=0)
        control("POST", "/_novakeys/clock", {"set": None})
        control("POST", "/_novakeys/clock", {"advance_seconds": 240})
        good.describe()  # four minutes of skew are fine
    finally:
        status, body = control("POST", "/_novakeys/clock", {"set": None})
        assert status in (200, 204), (status, body)
    good.describe()
    assert good.ids() == [], "no refused request created anything"


def test_unsigned_payload():
    """ClientProfile.unsignedPayload: TC3 with X-TC-Content-SHA256: UNSIGNED-PAYLOAD (POST JSON)."""
    tc = Tc("tc3-post", unsigned=True)
    kp, _ = tc.create("ci_unsigned")
    assert tc.ids() == [kp.KeyId]
    assert tc.raw[-1].request.headers["X-TC-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    Tc("tc3-post", secret_key="NotTheDemoSecretKey0000000000000", unsigned=True).error(
        "AuthFailure.SignatureFailure", "DescribeKeyPairs")


# ------------------------------------------------------------------ who sees what

def test_isolation(mode, pool):
    demo, admin = Tc(mode), Tc(mode, "admin")
    mine = admin.one(admin.import_("ci_admins", pool.next()))[0]
    assert admin.ids() == [mine.KeyId]
    assert demo.ids() == []
    assert demo.ids(KeyIds=[mine.KeyId]) == []
    assert demo.ids(Filters=[{"Name": "key-name", "Values": ["ci_admins"]}]) == []
    demo.error("InvalidKeyPairId.NotFound", "DeleteKeyPairs", KeyIds=[mine.KeyId])
    demo.error("InvalidKeyPairId.NotFound", "ModifyKeyPairAttribute", KeyId=mine.KeyId, KeyName="ci_stolen")
    theirs = demo.one(demo.import_("ci_admins", pool.next()))[0]  # names are per owner
    assert theirs.KeyId != mine.KeyId
    assert admin.ids() == [mine.KeyId] and demo.ids() == [theirs.KeyId]
    assert admin.one(mine.KeyId)[0].KeyName == "ci_admins"


def test_reader_may_describe_not_write(mode, pool):
    demo, reader = Tc(mode), Tc(mode, "reader")
    kp = demo.one(demo.import_("ci_readers", pool.next()))[0]
    inst = make_instance("stopped")
    resp, raw = reader.describe()
    assert type(raw["TotalCount"]) is int and isinstance(raw["KeyPairSet"], list)
    code = CODES["permission"]
    for action, fields in (
            ("CreateKeyPair", {"KeyName": "ci_reader", "ProjectId": 0}),
            ("ImportKeyPair", {"KeyName": "ci_reader", "ProjectId": 0, "PublicKey": pool.next()}),
            ("ModifyKeyPairAttribute", {"KeyId": kp.KeyId, "Description": "mine now"}),
            ("DeleteKeyPairs", {"KeyIds": [kp.KeyId]}),
            ("AssociateInstancesKeyPairs", {"InstanceIds": [inst], "KeyIds": [kp.KeyId]}),
            ("DisassociateInstancesKeyPairs", {"InstanceIds": [inst], "KeyIds": [kp.KeyId]})):
        e = reader.error(code, action, **fields)
        assert "cvm:" + action in e.get_message(), e.get_message()
    assert demo.ids() == [kp.KeyId]
    assert demo.one(kp.KeyId)[1]["Description"] == ""
    assert not instance(inst).get("key_pair_name")
