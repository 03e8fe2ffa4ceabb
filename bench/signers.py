"""Pre-signed requests for the cloud fronts' benchmark rows (wrk cannot sign in Lua).

Alibaba RPC (HMAC-SHA1) signs the query, nonce included, so every request is its own line;
Tencent TC3 signs the body and a timestamp (no nonce), so a describe can be repeated and each
import is its own line.
"""

import base64
import hashlib
import hmac
import os
import time
import urllib.parse

ALI_ID, ALI_SECRET = "LTAI5tNovakeysDemo000001", "NovakeysDemoAlibabaSecret00001"
TC_ID, TC_SECRET = "AKIDNovakeysDemo00000000000000000001", "NovakeysDemoTencentSecretKey0001"


def _pct(s):
    return urllib.parse.quote(s, safe="~")


def alibaba_rpc_path(params, access=ALI_ID, secret=ALI_SECRET):
    """`/?...` for an Alibaba RPC call as the Tea SDK's `v2` mode sends it."""
    p = {"Format": "JSON", "Version": "2014-05-26", "AccessKeyId": access,
         "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
         "SignatureNonce": os.urandom(16).hex(),
         "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
         "RegionId": "cn-hangzhou", **params}
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(p.items()))
    to_sign = "POST&%2F&" + _pct(canonical)
    sig = base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(),
                                    hashlib.sha1).digest()).decode()
    return "/?" + canonical + "&Signature=" + _pct(sig)


def random_rsa_public_key(comment="bench"):
    """An ssh-rsa line with a random 2048-bit odd modulus (parses as a key; nobody holds its
    private half)."""
    n = bytearray(os.urandom(256))
    n[0] |= 0x80
    n[-1] |= 1
    def mpint(b):
        b = bytes(b)
        return (b"\x00" + b) if b[0] & 0x80 else b
    def string(b):
        return len(b).to_bytes(4, "big") + b
    blob = string(b"ssh-rsa") + string(b"\x01\x00\x01") + string(mpint(n))
    return f"ssh-rsa {base64.b64encode(blob).decode()} {comment}"


def random_ed25519_public_key(comment="bench"):
    def string(b):
        return len(b).to_bytes(4, "big") + b
    blob = string(b"ssh-ed25519") + string(os.urandom(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


def tencent_tc3(host, action, body, ts=None, access=TC_ID, secret=TC_SECRET):
    """(headers, body) of a TC3-HMAC-SHA256 request as the Python SDK signs it."""
    ts = ts or int(time.time())
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    canonical = "\n".join(["POST", "/", "", "content-type:application/json",
                           f"host:{host}", "", "content-type;host",
                           hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{date}/cvm/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(ts), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    key = h(h(h(("TC3" + secret).encode(), date), "cvm"), "tc3_request")
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-TC-Action": action,
        "X-TC-Version": "2017-03-12",
        "X-TC-Timestamp": str(ts),
        "X-TC-Region": "ap-guangzhou",
        "Authorization": f"TC3-HMAC-SHA256 Credential={access}/{scope}, "
                         f"SignedHeaders=content-type;host, Signature={sig}",
    }, body
