"""Helpers for the Alibaba ECS compat suite: the check harness, the three stock Python clients
behind one calling convention, request capture/replay, test keys and the novakeys test controls.

The clients are used as a user would: the Tea SDK `alibabacloud-ecs20140526` (ACS3, and RPC with
signature_algorithm='v2') and the legacy `aliyun-python-sdk-ecs` on `aliyun-python-sdk-core`, each
pointed at novakeys only by its documented endpoint/protocol options. Nothing here patches them;
`capture()` only wraps the HTTP transport's send() to keep a copy of a signed request.
"""
import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import urllib.request
import warnings
from urllib.parse import quote, unquote_plus, urlsplit

warnings.filterwarnings("ignore")

CREDS = {
    "admin": ("LTAI5tNovakeysAdmin00001", "NovakeysAdminAlibabaSecret0001"),
    "demo": ("LTAI5tNovakeysDemo000001", "NovakeysDemoAlibabaSecret00001"),
    "reader": ("LTAI5tNovakeysReader0001", "NovakeysReaderAlibabaSecret001"),
}
REGION = "cn-hangzhou"
NO_REGION = object()  # leave RegionId out of the request
SIG_PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"
FP_RE = r"^([0-9a-f]{2}:){15}[0-9a-f]{2}$"
REQUEST_ID_RE = r"^[0-9A-Za-z][0-9A-Za-z-]{7,}$"


# ---- check harness -------------------------------------------------------------------------------

class Checks:
    """Prints "ok   [scope] what" / "FAIL [scope] what" plus evidence; never stops on a failure."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.scope = ""

    def _line(self, ok, what, evidence=()):
        tag = ("[%s] " % self.scope) if self.scope else ""
        print("%s %s%s" % ("ok  " if ok else "FAIL", tag, what), flush=True)
        if not ok:
            for e in evidence:
                for line in str(e).splitlines() or [""]:
                    print("     | " + line)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def ok(self, what, cond, *evidence):
        return self._line(bool(cond), what, evidence)

    def eq(self, what, actual, expected):
        return self._line(actual == expected, what, ("expected: %r" % (expected,), "actual:   %r" % (actual,)))

    def match(self, what, actual, regex):
        ok = isinstance(actual, str) and re.search(regex, actual) is not None
        return self._line(ok, what, ("expected to match: %s" % regex, "actual: %r" % (actual,)))

    def is_type(self, what, value, typ):
        return self._line(type(value) is typ, "%s is %s" % (what, typ.__name__),
                          ("actual: %r (%s)" % (value, type(value).__name__),))

    def fail(self, what, *evidence):
        return self._line(False, what, evidence)

    def error(self, what, fn, status, code):
        """Run fn, expect ApiError(status, code) with a well-formed envelope. Returns the error."""
        try:
            res = fn()
        except ApiError as e:
            good = e.status == status and e.code == code
            self._line(good, "%s -> %s %s" % (what, status, code),
                       ("expected: HTTP %s %s" % (status, code), "actual:   HTTP %s %s: %s" % (e.status, e.code, e.message)))
            if good:
                env_ok = isinstance(e.request_id, str) and re.match(REQUEST_ID_RE, e.request_id) \
                    and isinstance(e.message, str) and e.message != ""
                if e.data is not None:  # the Tea SDKs keep the whole body
                    env_ok = env_ok and isinstance(e.data.get("HostId"), str) and e.data.get("HostId") != "" \
                        and e.data.get("Code") == code and e.data.get("RequestId") == e.request_id
                self._line(bool(env_ok), "%s: error carries RequestId, Message%s" % (what, ", HostId, Code" if e.data is not None else ""),
                           ("request_id=%r message=%r data=%r" % (e.request_id, e.message, e.data),))
            return e
        except Exception as e:  # the client crashed instead of raising its documented error
            self._line(False, "%s -> %s %s" % (what, status, code), ("raised %s: %s" % (type(e).__name__, e), traceback.format_exc()))
            return None
        self._line(False, "%s -> %s %s" % (what, status, code), ("succeeded instead: %r" % (res,)))
        return None

    def run(self, name, fn, *args):
        """Run one test function; an unexpected exception is one FAIL, and the next test runs."""
        try:
            fn(*args)
        except ApiError as e:
            self.fail("%s: unexpected API error HTTP %s %s: %s" % (name, e.status, e.code, e.message), traceback.format_exc())
        except Exception as e:
            self.fail("%s: unexpected %s: %s" % (name, type(e).__name__, e), traceback.format_exc())


class ApiError(Exception):
    def __init__(self, status, code, message, request_id, data=None, exc=None):
        super().__init__("HTTP %s %s: %s" % (status, code, message))
        self.status, self.code, self.message, self.request_id, self.data, self.exc = \
            status, code, message, request_id, data, exc


# ---- the novakeys test controls ------------------------------------------------------------------

class Server:
    def __init__(self, url):
        self.url = url.rstrip("/")
        u = urlsplit(self.url)
        self.endpoint = u.netloc  # 127.0.0.1:PORT, what the SDKs want

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        # Every state-changing control needs the JSON content type, body or not.
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def reset(self):
        status, body = self.control("POST", "/_novakeys/reset", {})
        if status != 204:
            raise RuntimeError("POST /_novakeys/reset answered %s %r" % (status, body))

    def instance(self, name, os_type="linux", state="running", user="demo", project="demo"):
        status, body = self.control("POST", "/_novakeys/instances", {
            "cloud": "alibaba", "name": name, "user": user, "project": project, "os": os_type, "state": state})
        if status != 201:
            raise RuntimeError("POST /_novakeys/instances answered %s %r" % (status, body))
        return body["instance"]["id"]

    def instance_key(self, iid):
        status, body = self.control("GET", "/_novakeys/instances/" + iid)
        if status != 200:
            raise RuntimeError("GET /_novakeys/instances/%s answered %s %r" % (iid, status, body))
        return body["instance"].get("key_pair_name")

    def clock(self, body):
        status, resp = self.control("POST", "/_novakeys/clock", body)
        if status not in (200, 204):
            raise RuntimeError("POST /_novakeys/clock %r answered %s %r" % (body, status, resp))


# ---- the clients ---------------------------------------------------------------------------------

def _tags(cls, tags):
    return None if tags is None else [cls(key=k, value=v) for k, v in tags]


class TeaDriver:
    """alibabacloud-ecs20140526 (Tea/Darabonba). mode 'acs3' (default signing) or 'rpc' (signature_algorithm='v2')."""

    def __init__(self, server, mode, user="demo", ak=None, secret=None):
        from alibabacloud_ecs20140526.client import Client
        from alibabacloud_tea_openapi.models import Config
        self.name = "tea-" + mode
        self.mode = mode
        ak0, sk0 = CREDS[user]
        cfg = Config(access_key_id=ak or ak0, access_key_secret=secret or sk0, region_id=REGION,
                     endpoint=server.endpoint, protocol="http")
        if mode == "rpc":
            cfg.signature_algorithm = "v2"
        self.client = Client(cfg)

    def call(self, op, region=REGION, name=None, pub=None, tags=None, rg=None, names=None, ids=None,
             fp=None, page_number=None, page_size=None, include_public_key=None):
        from alibabacloud_ecs20140526 import models as m
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
        reg = None if region is NO_REGION else region
        if op == "create":
            fn, req = self.client.create_key_pair, m.CreateKeyPairRequest(
                region_id=reg, key_pair_name=name, resource_group_id=rg, tag=_tags(m.CreateKeyPairRequestTag, tags))
        elif op == "import":
            fn, req = self.client.import_key_pair, m.ImportKeyPairRequest(
                region_id=reg, key_pair_name=name, public_key_body=pub, resource_group_id=rg,
                tag=_tags(m.ImportKeyPairRequestTag, tags))
        elif op == "describe":
            fn, req = self.client.describe_key_pairs, m.DescribeKeyPairsRequest(
                region_id=reg, key_pair_name=name, key_pair_finger_print=fp, page_number=page_number,
                page_size=page_size, include_public_key=include_public_key, resource_group_id=rg,
                tag=_tags(m.DescribeKeyPairsRequestTag, tags))
        elif op == "delete":
            fn, req = self.client.delete_key_pairs, m.DeleteKeyPairsRequest(region_id=reg, key_pair_names=names)
        elif op == "attach":
            fn, req = self.client.attach_key_pair, m.AttachKeyPairRequest(region_id=reg, key_pair_name=name, instance_ids=ids)
        elif op == "detach":
            fn, req = self.client.detach_key_pair, m.DetachKeyPairRequest(region_id=reg, key_pair_name=name, instance_ids=ids)
        else:
            raise ValueError(op)
        try:
            resp = fn(req)
        except AlibabaCloudException as e:
            data = dict(e.data) if isinstance(e.data, dict) else None
            if data is not None:
                data.pop("statusCode", None)  # the SDK adds it to the body it keeps
            msg = data.get("Message") if data else e.message
            raise ApiError(e.status_code, e.code, msg, e.request_id, data, e)
        if resp.status_code != 200:
            raise AssertionError("SDK returned status %s without raising" % resp.status_code)
        # The typed model, mapped back to the wire names: only what the SDK's model understood.
        return resp.body.to_map()


class LegacyDriver:
    """aliyun-python-sdk-ecs + aliyun-python-sdk-core: AcsClient defaults, endpoint/protocol per request."""

    def __init__(self, server, user="demo", ak=None, secret=None):
        from aliyunsdkcore.client import AcsClient
        self.name = "legacy"
        self.mode = "legacy"
        self.server = server
        ak0, sk0 = CREDS[user]
        self.ak, self.secret = ak or ak0, secret or sk0
        self.client = AcsClient(self.ak, self.secret, REGION)
        self.last_request = None

    def call(self, op, region=REGION, name=None, pub=None, tags=None, rg=None, names=None, ids=None,
             fp=None, page_number=None, page_size=None, include_public_key=None):
        from aliyunsdkcore.acs_exception.exceptions import ServerException
        from aliyunsdkecs.request.v20140526 import (
            AttachKeyPairRequest, CreateKeyPairRequest, DeleteKeyPairsRequest, DescribeKeyPairsRequest,
            DetachKeyPairRequest, ImportKeyPairRequest)
        cls = {"create": CreateKeyPairRequest.CreateKeyPairRequest, "import": ImportKeyPairRequest.ImportKeyPairRequest,
               "describe": DescribeKeyPairsRequest.DescribeKeyPairsRequest, "delete": DeleteKeyPairsRequest.DeleteKeyPairsRequest,
               "attach": AttachKeyPairRequest.AttachKeyPairRequest, "detach": DetachKeyPairRequest.DetachKeyPairRequest}[op]
        req = cls()
        req.set_endpoint(self.server.endpoint)
        req.set_protocol_type("http")
        req.set_accept_format("json")
        if region is NO_REGION:
            raise ValueError("the legacy SDK always sends RegionId (the client's region when the request has none)")
        # RegionId comes from the client's region, as for any user of this SDK.
        client = self.client
        if region != REGION:
            from aliyunsdkcore.client import AcsClient
            client = AcsClient(self.ak, self.secret, region)
        setters = [("set_KeyPairName", name), ("set_PublicKeyBody", pub), ("set_ResourceGroupId", rg),
                   ("set_KeyPairNames", names), ("set_InstanceIds", ids), ("set_KeyPairFingerPrint", fp),
                   ("set_PageNumber", page_number), ("set_PageSize", page_size),
                   ("set_IncludePublicKey", include_public_key)]
        for setter, value in setters:
            if value is not None:
                getattr(req, setter)(value)
        if tags is not None:
            req.set_Tags([{"Key": k, "Value": v} for k, v in tags])
        self.last_request = req
        try:
            body = client.do_action_with_exception(req)
        except ServerException as e:
            raise ApiError(e.get_http_status(), e.get_error_code(), e.get_error_msg(), e.get_request_id(), None, e)
        return json.loads(body)


def drivers(server, user="demo", **kw):
    return [TeaDriver(server, "acs3", user, **kw), TeaDriver(server, "rpc", user, **kw), LegacyDriver(server, user, **kw)]


def make_driver(server, mode, user="demo", **kw):
    if mode == "legacy":
        return LegacyDriver(server, user, **kw)
    return TeaDriver(server, mode, user, **kw)


# ---- capture and raw replay ----------------------------------------------------------------------

class Captured(BaseException):
    """Raised from the wrapped transport so the SDK stops after building and signing a request.
    A BaseException, so neither SDK's retry loop (which catches Exception) swallows it."""

    def __init__(self, method, url, headers, body):
        super().__init__("captured")
        self.method, self.url, self.headers, self.body = method, url, headers, body


class capture:
    """with capture(): driver.call(...)  -> the signed request the SDK would have sent (not sent)."""

    def __enter__(self):
        import requests
        from aliyunsdkcore.vendored import requests as vendored
        self.patched = []
        for mod in (requests, vendored):
            orig = mod.Session.send

            def send(session, prepared, *a, **kw):
                body = prepared.body or b""
                if isinstance(body, str):
                    body = body.encode()
                raise Captured(prepared.method, prepared.url, list(prepared.headers.items()), body)
            mod.Session.send = send
            self.patched.append((mod, orig))
        self.request = None
        return self

    def __exit__(self, typ, val, tb):
        for mod, orig in self.patched:
            mod.Session.send = orig
        if isinstance(val, Captured):
            self.request = val
            return True
        return False


def signed_request(driver, op="describe", **kw):
    with capture() as c:
        driver.call(op, **kw)
    if c.request is None:
        raise AssertionError("%s did not try to send a request" % driver.name)
    return c.request


def raw_send(server, req, url=None, headers=None, body=None):
    """Send exactly this method/path+query/headers/body to the server; returns (status, json-or-text)."""
    u = urlsplit(url or req.url)
    hdrs = list(req.headers if headers is None else headers)
    conn = http.client.HTTPConnection(urlsplit(server.url).hostname, urlsplit(server.url).port, timeout=30)
    has_host = any(k.lower() == "host" for k, _ in hdrs)
    # One Host header, the captured one or the URL's (http.client would add a second one, which
    # real servers refuse with a bare 400).
    conn.putrequest(req.method, u.path + ("?" + u.query if u.query else ""), skip_host=True, skip_accept_encoding=True)
    if not has_host:
        conn.putheader("Host", u.netloc)
    payload = req.body if body is None else body
    for k, v in hdrs:
        if k.lower() != "content-length":
            conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(payload)))
    conn.endheaders(payload)
    r = conn.getresponse()
    raw = r.read()
    ctype = r.getheader("Content-Type") or ""
    conn.close()
    try:
        return r.status, json.loads(raw), ctype
    except ValueError:
        return r.status, raw.decode(errors="replace"), ctype


def query_pairs(url):
    q = urlsplit(url).query
    return [(unquote_plus(k), unquote_plus(v)) for k, _, v in (p.partition("=") for p in q.split("&") if p)]


def rfc3986(s):
    return quote(s, safe="~")


def rpc_string_to_sign(req):
    """The RPC v1 string to sign, derived independently from the wire query."""
    pairs = sorted((k, v) for k, v in query_pairs(req.url) if k != "Signature")
    canon = "&".join("%s=%s" % (rfc3986(k), rfc3986(v)) for k, v in pairs)
    return "%s&%s&%s" % (req.method, rfc3986("/"), rfc3986(canon))


def acs3_string_to_sign(req):
    """The ACS3-HMAC-SHA256 string to sign, derived independently from the wire request."""
    auth = dict(req.headers).get("Authorization", "")
    signed = re.search(r"SignedHeaders=([^,]*)", auth).group(1).split(";")
    pairs = sorted(query_pairs(req.url))
    canon_q = "&".join("%s=%s" % (rfc3986(k), rfc3986(v)) for k, v in pairs)
    hdr = {}
    for k, v in req.headers:
        hdr.setdefault(k.lower(), []).append(v.strip())
    canon_h = "".join("%s:%s\n" % (n, ",".join(sorted(hdr.get(n, [])))) for n in signed)
    payload = hdr.get("x-acs-content-sha256", [hashlib.sha256(req.body).hexdigest()])[0]
    creq = "\n".join([req.method, urlsplit(req.url).path or "/", canon_q, canon_h, ";".join(signed), payload])
    return "ACS3-HMAC-SHA256\n" + hashlib.sha256(creq.encode()).hexdigest()


# ---- keys ----------------------------------------------------------------------------------------

def gen_public_key(kind):
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
    key = {"rsa": lambda: rsa.generate_private_key(65537, 2048), "dsa": lambda: dsa.generate_private_key(1024),
           "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()), "ed25519": ed25519.Ed25519PrivateKey.generate}[kind]()
    return key.public_key().public_bytes(s.Encoding.OpenSSH, s.PublicFormat.OpenSSH).decode()


def ssh_keygen(*args, stdin=None):
    p = subprocess.run(["ssh-keygen"] + list(args), capture_output=True, text=True, input=stdin)
    if p.returncode != 0:
        raise AssertionError("ssh-keygen %s failed (%s): %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p.stdout.strip()


def md5_fingerprint(public_key):
    """What `ssh-keygen -l -E md5` prints for the key, without the "MD5:" prefix."""
    with tempfile.NamedTemporaryFile("w", suffix=".pub", delete=False) as f:
        f.write(public_key.strip() + "\n")
    try:
        out = ssh_keygen("-l", "-E", "md5", "-f", f.name)
    finally:
        os.unlink(f.name)
    return out.split()[1].replace("MD5:", "")


def private_key_check(pem):
    """ssh-keygen -y on the private key: (public key 'type base64', bits)."""
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        os.write(fd, pem.encode() if pem.endswith("\n") else (pem + "\n").encode())
        os.close(fd)
        os.chmod(path, 0o600)
        pub = ssh_keygen("-y", "-f", path)
        with open(path + ".pub", "w") as f:
            f.write(pub + "\n")
        bits = int(ssh_keygen("-l", "-f", path + ".pub").split()[0])
        return " ".join(pub.split()[:2]), bits
    finally:
        os.unlink(path)
        if os.path.exists(path + ".pub"):
            os.unlink(path + ".pub")


def key_id(public_key):
    return " ".join(public_key.split()[:2])


# ---- response helpers ----------------------------------------------------------------------------

def items(body):
    """KeyPairs.KeyPair of a DescribeKeyPairs body (wrappers required)."""
    kp = body.get("KeyPairs")
    if not isinstance(kp, dict) or not isinstance(kp.get("KeyPair"), list):
        raise AssertionError("DescribeKeyPairs body lacks the KeyPairs.KeyPair wrapper: %r" % (body,))
    return kp["KeyPair"]


def names_of(body):
    return sorted(i.get("KeyPairName") for i in items(body))


def tags_of(item):
    t = item.get("Tags")
    if not isinstance(t, dict) or not isinstance(t.get("Tag"), list):
        raise AssertionError("key pair item lacks the Tags.Tag wrapper: %r" % (item,))
    return sorted((x.get("TagKey"), x.get("TagValue")) for x in t["Tag"])


def utc_now():
    return dt.datetime.now(dt.timezone.utc)


def jarr(*names):
    return json.dumps(list(names))
