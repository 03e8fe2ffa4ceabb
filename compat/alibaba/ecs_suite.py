#!/usr/bin/env python3
"""Alibaba ECS 2014-05-26 key pair API through three stock Python clients, against novakeys.

usage: ecs_suite.py URL [--clients tea-acs3,tea-rpc,legacy] [--no-crossfront]

Each client (Tea SDK in ACS3 mode, Tea SDK in RPC mode, legacy aliyun-python-sdk-ecs) runs every
test below against a freshly reset server; then the cross-front checks (Alibaba <-> Nova through
the stock `openstack` CLI) run once. Prints one "ok"/"FAIL" line per check and ends with
"alibaba-python: N passed, M failed"; exits 1 if anything failed.
"""
import json
import re
import subprocess
import sys

from nkali import (FP_RE, NO_REGION, REGION, SIG_PREFIX, ApiError, Checks, Server, acs3_string_to_sign,
                   drivers, gen_public_key, items, jarr, key_id, make_driver, md5_fingerprint, names_of,
                   private_key_check, raw_send, rpc_string_to_sign, signed_request, tags_of, utc_now)

import datetime as dt

C = Checks()


def one(body, name):
    got = [i for i in items(body) if i.get("KeyPairName") == name]
    if len(got) != 1:
        raise AssertionError("expected exactly one item named %r in %r" % (name, body))
    return got[0]


def new_key():
    return gen_public_key("ecdsa")


def describe_all(d, **kw):
    return d.call("describe", page_size=50, **kw)


# ---- operations ----------------------------------------------------------------------------------

def test_create(S, d):
    S.reset()
    tags = [("env", "dev"), ("team", "a b*c~d/e=f&g")]
    body = d.call("create", name="gen-key", tags=tags)
    C.eq("CreateKeyPair: KeyPairName echoed", body.get("KeyPairName"), "gen-key")
    C.match("CreateKeyPair: KeyPairId is ssh-<lowercase alnum>", body.get("KeyPairId"), r"^ssh-[0-9a-z]+$")
    C.match("CreateKeyPair: RequestId", body.get("RequestId"), r"^[0-9A-Za-z-]{8,}$")
    C.match("CreateKeyPair: KeyPairFingerPrint is 16 colon-hex octets", body.get("KeyPairFingerPrint"), FP_RE)
    pem = body.get("PrivateKeyBody")
    C.match("CreateKeyPair: PrivateKeyBody is an unencrypted PEM private key", pem,
            r"^-----BEGIN (RSA )?PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END (RSA )?PRIVATE KEY-----\n?$")
    pub_from_priv, bits = private_key_check(pem)
    C.eq("CreateKeyPair: generated key is 2048-bit (ssh-keygen -l)", bits, 2048)
    C.ok("CreateKeyPair: generated key is RSA (ssh-keygen -y)", pub_from_priv.startswith("ssh-rsa "), pub_from_priv)
    C.eq("CreateKeyPair: fingerprint equals ssh-keygen -l -E md5 of the key",
         body.get("KeyPairFingerPrint"), md5_fingerprint(pub_from_priv))

    desc = d.call("describe", name="gen-key", include_public_key=True)
    C.is_type("DescribeKeyPairs: TotalCount", desc.get("TotalCount"), int)
    C.is_type("DescribeKeyPairs: PageNumber", desc.get("PageNumber"), int)
    C.is_type("DescribeKeyPairs: PageSize", desc.get("PageSize"), int)
    C.eq("DescribeKeyPairs: TotalCount for the exact name", desc.get("TotalCount"), 1)
    C.eq("DescribeKeyPairs: default PageNumber", desc.get("PageNumber"), 1)
    C.eq("DescribeKeyPairs: default PageSize", desc.get("PageSize"), 10)
    it = one(desc, "gen-key")
    C.eq("DescribeKeyPairs: same fingerprint as CreateKeyPair", it.get("KeyPairFingerPrint"), body.get("KeyPairFingerPrint"))
    C.ok("DescribeKeyPairs: PublicKey (IncludePublicKey=true) matches ssh-keygen -y of the private key",
         isinstance(it.get("PublicKey"), str) and key_id(it["PublicKey"]) == pub_from_priv,
         "PublicKey: %r" % it.get("PublicKey"), "ssh-keygen -y: %r" % pub_from_priv)
    C.ok("DescribeKeyPairs: no PrivateKeyBody (it is returned once)", "PrivateKeyBody" not in it, it)
    ct = it.get("CreationTime")
    if C.match("DescribeKeyPairs: CreationTime is YYYY-MM-DDTHH:MMZ", ct, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$"):
        t = dt.datetime.strptime(ct, "%Y-%m-%dT%H:%MZ").replace(tzinfo=dt.timezone.utc)
        C.ok("DescribeKeyPairs: CreationTime is now (+-10 min)", abs((utc_now() - t).total_seconds()) < 600, ct)
    C.is_type("DescribeKeyPairs: ResourceGroupId", it.get("ResourceGroupId"), str)
    C.eq("DescribeKeyPairs: Tags.Tag holds the tags (special characters intact)", tags_of(it), sorted(tags))


def test_import(S, d):
    S.reset()
    for kind, name in (("rsa", "imp-rsa"), ("dsa", "imp-dsa"), ("ecdsa", "imp-ecdsa")):
        pub = gen_public_key(kind) + " someone@example"
        body = d.call("import", name=name, pub=pub)
        C.eq("ImportKeyPair %s: KeyPairName echoed" % kind, body.get("KeyPairName"), name)
        C.eq("ImportKeyPair %s: KeyPairFingerPrint equals ssh-keygen -l -E md5" % kind,
             body.get("KeyPairFingerPrint"), md5_fingerprint(pub))
        C.ok("ImportKeyPair %s: no PrivateKeyBody" % kind, not body.get("PrivateKeyBody"), body)
        it = one(d.call("describe", name=name, include_public_key=True), name)
        C.eq("DescribeKeyPairs %s: PublicKey is the imported key" % kind, key_id(it.get("PublicKey") or ""), key_id(pub))
        C.eq("DescribeKeyPairs %s: fingerprint" % kind, it.get("KeyPairFingerPrint"), md5_fingerprint(pub))
    C.error("ImportKeyPair ssh-ed25519", lambda: d.call("import", name="imp-ed", pub=gen_public_key("ed25519")),
            400, "InvalidPublicKeyBody.Malformed")
    C.error("ImportKeyPair garbage body", lambda: d.call("import", name="imp-bad", pub="ssh-rsa not-base64!"),
            400, "InvalidPublicKeyBody.Malformed")
    C.error("ImportKeyPair without PublicKeyBody", lambda: d.call("import", name="imp-none"), 400, "MissingParameter")
    C.eq("refused imports left nothing behind", names_of(describe_all(d)), ["imp-dsa", "imp-ecdsa", "imp-rsa"])


def test_names(S, d):
    S.reset()
    pub = gen_public_key("ecdsa")  # for refused imports only
    for name in ("Ab", "A" + "b" * 127, "k:1_-x"):
        C.eq("CreateKeyPair accepts name %r" % name[:20], d.call("create", name=name).get("KeyPairName"), name)
    for name in ("a", "A" * 129, "1abc", "_abc", "-abc", "ab.c", "ab c", "ab/c", "http://abc", "https://abc"):
        C.error("CreateKeyPair name %r" % name[:20], lambda: d.call("create", name=name), 400, "InvalidKeyPairName.Malformed")
    for name in ("imp.dot", "\u5bc6\u94a5.key-1", "Key:with_all.chars-1"):
        C.eq("ImportKeyPair accepts name %r" % name, d.call("import", name=name, pub=new_key()).get("KeyPairName"), name)
    for name in ("i", "1imp", ".imp", "imp key", "imp/key", "http://imp.example"):
        C.error("ImportKeyPair name %r" % name, lambda: d.call("import", name=name, pub=pub), 400, "InvalidKeyPairName.Malformed")
    got = names_of(describe_all(d))
    C.eq("only the accepted names exist", got,
         sorted(["Ab", "A" + "b" * 127, "k:1_-x", "imp.dot", "\u5bc6\u94a5.key-1", "Key:with_all.chars-1"]))


def test_duplicates(S, d):
    S.reset()
    first = d.call("create", name="dup")
    C.error("CreateKeyPair existing name", lambda: d.call("create", name="dup"), 400, "KeyPair.AlreadyExist")
    C.error("ImportKeyPair existing name", lambda: d.call("import", name="dup", pub=gen_public_key("ecdsa")),
            400, "KeyPair.AlreadyExist")
    it = one(d.call("describe", name="dup"), "dup")
    C.eq("the original key pair is unchanged", it.get("KeyPairFingerPrint"), first.get("KeyPairFingerPrint"))


def test_tags(S, d):
    S.reset()
    pub = gen_public_key("ecdsa")
    twenty = [("k%02d" % i, "v%d" % i) for i in range(1, 21)]
    d.call("import", name="tags-20", pub=new_key(), tags=twenty)
    C.eq("20 tags (Tag.1..Tag.20) are kept", tags_of(one(d.call("describe", name="tags-20"), "tags-20")), sorted(twenty))
    edge = [("K" * 128, "V" * 128), ("empty-value", "")]
    d.call("create", name="tags-edge", tags=edge)
    C.eq("128-char key/value and an empty value are kept", tags_of(one(d.call("describe", name="tags-edge"), "tags-edge")), sorted(edge))
    C.error("21 tags", lambda: d.call("create", name="tags-21", tags=twenty + [("k21", "v21")]), 403, "QuotaExceed.Tags")
    C.error("21 tags on import", lambda: d.call("import", name="tags-21i", pub=pub, tags=twenty + [("k21", "v21")]),
            403, "QuotaExceed.Tags")
    C.error("duplicate tag key", lambda: d.call("create", name="tags-dup", tags=[("a", "1"), ("a", "2")]), 400, "Duplicate.TagKey")
    C.error("duplicate tag key on import", lambda: d.call("import", name="tags-dupi", pub=pub, tags=[("a", "1"), ("a", "2")]),
            400, "Duplicate.TagKey")
    for key in ("", "aliyun-x", "acs:x", "x http://y", "x https://y", "k" * 129):
        C.error("tag key %r" % key[:16], lambda: d.call("create", name="tags-badk", tags=[(key, "v")]), 400, "InvalidTagKey.Malformed")
    for value in ("acs:v", "v http://y", "v https://y", "v" * 129):
        C.error("tag value %r" % value[:16], lambda: d.call("create", name="tags-badv", tags=[("k", value)]), 400, "InvalidTagValue.Malformed")
    C.eq("refused tag requests created nothing", names_of(describe_all(d)), ["tags-20", "tags-edge"])
    d.call("import", name="tag-a", pub=new_key(), tags=[("env", "dev"), ("team", "x")])
    d.call("import", name="tag-b", pub=new_key(), tags=[("env", "dev"), ("team", "y")])
    d.call("import", name="tag-c", pub=new_key(), tags=[("env", "prod")])
    C.eq("Describe by one tag", names_of(describe_all(d, tags=[("env", "dev")])), ["tag-a", "tag-b"])
    C.eq("Describe by two tags (AND)", names_of(describe_all(d, tags=[("env", "dev"), ("team", "y")])), ["tag-b"])
    C.eq("Describe by a tag nobody has", names_of(describe_all(d, tags=[("env", "qa")])), [])


def test_regions_groups(S, d):
    S.reset()
    pub = gen_public_key("ecdsa")
    d.call("import", name="in-region", pub=pub)
    C.eq("RegionId RegionOne is the same region as cn-hangzhou", names_of(describe_all(d, region="RegionOne")), ["in-region"])
    for op, kw in (("create", dict(name="r1")), ("import", dict(name="r1", pub=pub)), ("describe", {}),
                   ("delete", dict(names=jarr("in-region")))):
        C.error("%s in unknown region" % op, lambda: d.call(op, region="cn-nowhere-9", **kw), 404, "InvalidRegionId.NotFound")
    if d.mode == "legacy":
        print("note [legacy] MissingParameter for RegionId is checked through the Tea clients only: "
              "this SDK always sends RegionId (the client's region)")
    else:
        for op, kw in (("create", dict(name="r2")), ("describe", {})):
            C.error("%s without RegionId" % op, lambda: d.call(op, region=NO_REGION, **kw), 400, "MissingParameter")
    for op, kw in (("create", dict(name="g1")), ("import", dict(name="g1", pub=pub)), ("describe", {})):
        C.error("%s in unknown resource group" % op, lambda: d.call(op, rg="rg-nkdoesnotexist0001", **kw),
                404, "InvalidResourceGroup.NotFound")
    C.eq("refused requests created nothing", names_of(describe_all(d)), ["in-region"])
    rg = one(describe_all(d), "in-region").get("ResourceGroupId")
    if rg:
        d.call("create", name="in-group", rg=rg)
        C.ok("Describe by the key pairs' own ResourceGroupId %s lists them" % rg,
             "in-group" in names_of(describe_all(d, rg=rg)))
    else:
        C.eq("ResourceGroupId of a key pair made without one is the empty string", rg, "")


def test_describe(S, d):
    S.reset()
    pubs = {}
    for name in ("wc-alpha-one", "wc-alpha-two", "wc-beta-one", "other-alpha"):
        pubs[name] = gen_public_key("ecdsa")
        d.call("import", name=name, pub=pubs[name])
    for pattern, want in (("wc-alpha*", ["wc-alpha-one", "wc-alpha-two"]), ("*one", ["wc-alpha-one", "wc-beta-one"]),
                          ("*alpha*", ["other-alpha", "wc-alpha-one", "wc-alpha-two"]), ("wc-alpha-one", ["wc-alpha-one"]),
                          ("wc-alpha", []), ("*", sorted(pubs)), ("*x y~z*", [])):
        body = describe_all(d, name=pattern)
        C.eq("KeyPairName %r" % pattern, names_of(body), want)
        C.eq("KeyPairName %r: TotalCount" % pattern, body.get("TotalCount"), len(want))
    fp = md5_fingerprint(pubs["wc-beta-one"])
    C.eq("KeyPairFingerPrint filter", names_of(describe_all(d, fp=fp)), ["wc-beta-one"])
    C.eq("KeyPairFingerPrint filter, no match", names_of(describe_all(d, fp="00:" * 15 + "00")), [])
    plain = items(describe_all(d))
    C.ok("PublicKey absent without IncludePublicKey", all(i.get("PublicKey") in (None,) for i in plain), plain)
    plain = items(describe_all(d, include_public_key=False))
    C.ok("PublicKey absent with IncludePublicKey=false", all(i.get("PublicKey") in (None,) for i in plain), plain)
    full = items(describe_all(d, include_public_key=True))
    C.ok("PublicKey present with IncludePublicKey=true",
         all(key_id(i.get("PublicKey") or "") == key_id(pubs[i["KeyPairName"]]) for i in full), full)

    for i in range(8):
        d.call("import", name="page-%02d" % i, pub=new_key())
    total = 12
    body = d.call("describe")
    C.eq("default page: 10 items", len(items(body)), 10)
    C.eq("default page: TotalCount counts all", body.get("TotalCount"), total)
    seen = []
    for number, size, want in ((1, 5, 5), (2, 5, 5), (3, 5, 2), (4, 5, 0)):
        body = d.call("describe", page_number=number, page_size=size)
        C.eq("PageNumber %d PageSize %d: %d items" % (number, size, want), len(items(body)), want)
        C.eq("PageNumber %d PageSize %d: echoed" % (number, size), (body.get("PageNumber"), body.get("PageSize")), (number, size))
        C.eq("PageNumber %d PageSize %d: TotalCount" % (number, size), body.get("TotalCount"), total)
        seen += names_of(body)
    C.eq("pages are disjoint and cover every key pair", sorted(seen), names_of(d.call("describe", page_size=50)))
    C.eq("PageSize 50 returns all 12", len(items(d.call("describe", page_size=50))), total)
    C.error("PageSize 51", lambda: d.call("describe", page_size=51), 400, "InvalidParameter")


def test_delete(S, d):
    S.reset()
    pub = gen_public_key("ecdsa")
    for n in ("del-a", "del-b", "del-c"):
        d.call("import", name=n, pub=new_key())
    body = d.call("delete", names=jarr("del-a", "del-b"))
    C.match("DeleteKeyPairs: RequestId", body.get("RequestId"), r"^[0-9A-Za-z-]{8,}$")
    C.eq("DeleteKeyPairs of a JSON array removes those names", names_of(describe_all(d)), ["del-c"])
    C.error("DeleteKeyPairs with a bare name", lambda: d.call("delete", names="del-c"), 400, "InvalidKeyPairNames.ValueNotSupported")
    C.error("DeleteKeyPairs with a JSON object", lambda: d.call("delete", names='{"a": 1}'), 400, "InvalidKeyPairNames.ValueNotSupported")
    C.error("DeleteKeyPairs without KeyPairNames", lambda: d.call("delete"), 400, "MissingParameter")
    C.error("DeleteKeyPairs of 101 names", lambda: d.call("delete", names=jarr(*["del-c"] + ["nx-%03d" % i for i in range(100)])),
            403, "InstanceKeyPairLimitExceeded")
    C.eq("refused deletes removed nothing", names_of(describe_all(d)), ["del-c"])


def test_quota(S, d):
    S.reset()
    names = ["q-%03d" % i for i in range(100)]
    for n in names:
        d.call("import", name=n, pub=new_key())
    C.eq("demo holds 100 key pairs", d.call("describe").get("TotalCount"), 100)
    C.error("101st key pair of demo (ImportKeyPair)", lambda: d.call("import", name="q-100", pub=gen_public_key("ecdsa")),
            403, "QuotaExceed.KeyPair")
    C.error("101st key pair of demo (CreateKeyPair)", lambda: d.call("create", name="q-101"), 403, "QuotaExceed.KeyPair")
    d.call("delete", names=jarr(*names))
    C.eq("DeleteKeyPairs of 100 names in one call removes them all", d.call("describe").get("TotalCount"), 0)
    C.eq("after deleting, creating works again", d.call("create", name="q-again").get("KeyPairName"), "q-again")


def check_results(what, body, name, expect):
    """expect: list of (instance id, success 'true'/'false', code or None)."""
    C.eq("%s: KeyPairName" % what, body.get("KeyPairName"), name)
    C.eq("%s: TotalCount is a string" % what, body.get("TotalCount"), str(len(expect)))
    C.eq("%s: FailCount is a string" % what, body.get("FailCount"), str(sum(1 for _, s, _ in expect if s == "false")))
    res = body.get("Results")
    if not (isinstance(res, dict) and isinstance(res.get("Result"), list)):
        C.fail("%s: Results.Result wrapper" % what, body)
        return
    got = {r.get("InstanceId"): r for r in res["Result"]}
    C.eq("%s: one Result per instance" % what, sorted(got), sorted(i for i, _, _ in expect))
    for iid, success, code in expect:
        r = got.get(iid, {})
        C.eq("%s: %s Success" % (what, iid), r.get("Success"), success)
        C.ok("%s: %s Code/Message are strings" % (what, iid), isinstance(r.get("Code"), str) and isinstance(r.get("Message"), str), r)
        if code is not None:
            C.eq("%s: %s Code" % (what, iid), r.get("Code"), code)


def test_attach(S, d):
    S.reset()
    d.call("create", name="att-1")
    d.call("import", name="att-2", pub=gen_public_key("rsa"))
    run_ = S.instance("nk-linux-running", "linux", "running")
    stop = S.instance("nk-linux-stopped", "linux", "stopped")
    win = S.instance("nk-windows", "windows", "running")
    body = d.call("attach", name="att-1", ids=jarr(run_, stop))
    check_results("AttachKeyPair to a running and a stopped Linux instance", body, "att-1",
                  [(run_, "true", "200"), (stop, "true", "200")])
    C.eq("running instance now holds att-1", S.instance_key(run_), "att-1")
    C.eq("stopped instance now holds att-1", S.instance_key(stop), "att-1")
    body = d.call("attach", name="att-2", ids=jarr(run_))
    check_results("AttachKeyPair of another key", body, "att-2", [(run_, "true", "200")])
    C.eq("attaching replaces the earlier key", S.instance_key(run_), "att-2")
    body = d.call("attach", name="att-1", ids=jarr(win))
    check_results("AttachKeyPair to Windows", body, "att-1", [(win, "false", "DependencyViolation.WindowsInstance")])
    C.ok("Windows instance holds no key", not S.instance_key(win), S.instance_key(win))
    body = d.call("attach", name="att-1", ids=jarr(stop, win))
    check_results("AttachKeyPair to Linux + Windows", body, "att-1", [(stop, "true", "200"), (win, "false", "DependencyViolation.WindowsInstance")])
    C.error("DeleteKeyPairs of a bound key", lambda: d.call("delete", names=jarr("att-1")), 400,
            "InvalidParameter.KeypairAlreadyAttachedInstance")
    C.ok("the bound key still exists", "att-1" in names_of(describe_all(d)))
    C.error("AttachKeyPair of an unknown key", lambda: d.call("attach", name="att-none", ids=jarr(run_)), 400,
            "InvalidKeyPairName.NotFound")
    C.error("AttachKeyPair with a bare instance id", lambda: d.call("attach", name="att-1", ids=run_), 400,
            "InvalidInstanceIds.ValueNotSupported")
    C.error("AttachKeyPair to 51 instances", lambda: d.call("attach", name="att-1", ids=jarr(*["i-nk%05d" % i for i in range(51)])),
            403, "InstanceKeyPairLimitExceeded")
    body = d.call("detach", name="att-1", ids=jarr(stop))
    check_results("DetachKeyPair", body, "att-1", [(stop, "true", "200")])
    C.ok("stopped instance holds no key after detach", not S.instance_key(stop), S.instance_key(stop))
    C.error("DetachKeyPair of an unknown key", lambda: d.call("detach", name="att-none", ids=jarr(stop)), 400,
            "InvalidKeyPairName.NotFound")
    body = d.call("detach", name="att-2", ids=jarr(run_))
    check_results("DetachKeyPair of the replacing key", body, "att-2", [(run_, "true", "200")])
    d.call("delete", names=jarr("att-1", "att-2"))
    C.eq("unbound keys delete", names_of(describe_all(d)), [])


# ---- authentication ------------------------------------------------------------------------------

def string_to_sign(driver, req):
    return acs3_string_to_sign(req) if driver.mode == "acs3" else rpc_string_to_sign(req)


def strip_signature(driver, req):
    """The same request without its signature (query Signature, or Authorization's Signature=)."""
    if driver.mode == "acs3":
        hdrs = [(k, re.sub(r",Signature=[0-9a-f]*", "", v) if k.lower() == "authorization" else v) for k, v in req.headers]
        return dict(headers=hdrs)
    url = re.sub(r"[?&]Signature=[^&]*", "", req.url)
    if "?" not in url:
        url = url.replace("&", "?", 1)
    return dict(url=url)


def test_signatures(S, d):
    S.reset()
    d.call("create", name="sig-key")
    mode = d.mode
    # The client's own request is accepted: done by every other test. Now the server's checks.
    e = C.error("wrong AccessKeySecret through the SDK",
                lambda: make_driver(S, mode, secret="WrongSecretWrongSecret0000000").call("describe"),
                400, "InvalidAccessKeySecret" if mode == "legacy" else "SignatureDoesNotMatch")
    if mode == "legacy" and e is not None:
        print("note [legacy] InvalidAccessKeySecret means the legacy core found the server's string to sign equal to its own")
    if e is not None and mode != "legacy":
        C.ok("SignatureDoesNotMatch message starts with Alibaba's wording", (e.message or "").startswith(SIG_PREFIX), e.message)
    bad = make_driver(S, mode, secret="WrongSecretWrongSecret0000000")
    req = signed_request(bad, "describe", name="sig-*")
    status, body, ctype = raw_send(S, req)
    C.eq("wrong secret, raw: HTTP 400", status, 400)
    if isinstance(body, dict):
        C.eq("wrong secret, raw: Code", body.get("Code"), "SignatureDoesNotMatch")
        C.eq("wrong secret, raw: Message is the prefix + the exact string to sign", body.get("Message"),
             SIG_PREFIX + string_to_sign(d, req))
        C.ok("wrong secret, raw: the tail holds no ':' (the legacy core splits on it)",
             ":" not in (body.get("Message") or "")[len(SIG_PREFIX):], body.get("Message"))
        C.ok("wrong secret, raw: RequestId and HostId", body.get("RequestId") and body.get("HostId"), body)
        C.ok("error Content-Type is JSON", "json" in ctype.lower(), ctype)
        if mode == "legacy":
            C.eq("legacy core's own string to sign equals the one derived here", bad.last_request.string_to_sign, string_to_sign(d, req))
    else:
        C.fail("wrong secret, raw: JSON error body", body)

    C.error("unknown AccessKeyId", lambda: make_driver(S, mode, ak="LTAI5tNovakeysNoSuchKey1", secret="x" * 30).call("describe"),
            404, "InvalidAccessKeyId.NotFound")

    S.clock({"advance_seconds": 1200})
    try:
        C.error("timestamp 20 minutes behind the server", lambda: d.call("describe"), 400, "InvalidTimeStamp.Expired")
    finally:
        S.clock({"set": None})
    C.eq("after the clock is reset the same client works", names_of(d.call("describe")), ["sig-key"])

    req = signed_request(d, "describe", name="sig-*")
    s1, b1, _ = raw_send(S, req)
    C.eq("replayed request, first send: HTTP 200", s1, 200)
    C.ok("replayed request, first send: the key pair", isinstance(b1, dict) and names_of(b1) == ["sig-key"], b1)
    s2, b2, _ = raw_send(S, req)
    C.eq("replayed request, second send: HTTP 400", s2, 400)
    C.eq("replayed request, second send: SignatureNonceUsed", b2.get("Code") if isinstance(b2, dict) else b2, "SignatureNonceUsed")

    req = signed_request(d, "describe")
    s, b, _ = raw_send(S, req, **strip_signature(d, req))
    C.eq("request without its signature: HTTP 400", s, 400)
    C.eq("request without its signature: IncompleteSignature", b.get("Code") if isinstance(b, dict) else b, "IncompleteSignature")

    req = signed_request(d, "describe", name="sig-key")
    s, b, _ = raw_send(S, req, url=req.url.replace("sig-key", "sig-kez"))
    C.eq("a query value changed after signing: HTTP 400", s, 400)
    C.eq("a query value changed after signing: SignatureDoesNotMatch", b.get("Code") if isinstance(b, dict) else b, "SignatureDoesNotMatch")

    req = signed_request(d, "describe", name="sig-key")
    s, b, _ = raw_send(S, req, headers=list(req.headers) + [("X-Nk-Unsigned", "anything")])
    C.eq("an extra unsigned header is ignored", (s, names_of(b) if s == 200 else b), (200, ["sig-key"]))

    if mode == "acs3":
        req = signed_request(d, "describe", name="sig-key")
        s, b, _ = raw_send(S, req, headers=[(k, v.replace("Python/", "Pithon/") if k.lower() == "user-agent" else v) for k, v in req.headers])
        C.eq("ACS3: a signed header (user-agent) changed: SignatureDoesNotMatch", (s, b.get("Code") if isinstance(b, dict) else b),
             (400, "SignatureDoesNotMatch"))
        req = signed_request(d, "describe", name="sig-key")
        s, b, _ = raw_send(S, req, headers=[(k, " %s  " % v if k.lower() == "x-acs-version" else v) for k, v in req.headers])
        C.eq("ACS3: signed header values are trimmed", (s, names_of(b) if s == 200 else b), (200, ["sig-key"]))
    # Wire encodings vary by client ('+' or %20 for a space, '*' raw or %2A): the server must decode
    # the query before canonicalising. Re-encode the same values another legal way.
    req = signed_request(d, "describe", name="*sig key~*")
    alt = req.url.replace("+", "%20").replace("%2A", "*").replace("~", "%7E")
    s, b, _ = raw_send(S, req, url=alt)
    C.eq("the same query, encoded differently (%20, raw *, %7E), is accepted", (s, b.get("TotalCount") if isinstance(b, dict) else b), (200, 0))


def test_access(S, d):
    S.reset()
    mode = d.mode
    demo, admin, reader = d, make_driver(S, mode, "admin"), make_driver(S, mode, "reader")
    admin_pub = gen_public_key("ecdsa")
    admin.call("import", name="iso-admin", pub=admin_pub)
    demo.call("create", name="iso-demo")
    C.eq("demo does not see admin's key pairs", names_of(describe_all(demo)), ["iso-demo"])
    C.eq("demo: exact name of admin's key finds nothing", demo.call("describe", name="iso-admin").get("TotalCount"), 0)
    C.eq("admin does not see demo's key pairs", names_of(describe_all(admin)), ["iso-admin"])
    try:
        demo.call("delete", names=jarr("iso-admin"))
    except ApiError:
        pass
    C.eq("demo's DeleteKeyPairs cannot remove admin's key pair", names_of(describe_all(admin)), ["iso-admin"])
    own = demo.call("import", name="iso-admin", pub=gen_public_key("ecdsa"))
    C.eq("demo may use the same name for its own key pair", own.get("KeyPairName"), "iso-admin")
    C.eq("admin's key pair is untouched", one(describe_all(admin), "iso-admin").get("KeyPairFingerPrint"), md5_fingerprint(admin_pub))

    body = reader.call("describe")
    C.is_type("reader may describe: TotalCount", body.get("TotalCount"), int)
    pub = gen_public_key("ecdsa")
    C.error("reader CreateKeyPair", lambda: reader.call("create", name="rd-1"), 403, "Forbidden.RAM")
    C.error("reader ImportKeyPair", lambda: reader.call("import", name="rd-2", pub=pub), 403, "Forbidden.RAM")
    C.error("reader DeleteKeyPairs", lambda: reader.call("delete", names=jarr("iso-demo")), 403, "Forbidden.RAM")
    iid = S.instance("nk-reader-target")
    C.error("reader AttachKeyPair", lambda: reader.call("attach", name="iso-demo", ids=jarr(iid)), 403, "Forbidden.RAM")
    C.eq("demo's key pairs are untouched by reader", names_of(describe_all(demo)), ["iso-admin", "iso-demo"])


def test_faults(S, d):
    """Injected faults (POST /_novakeys/faults) reach each client as Alibaba's own errors."""
    S.reset()
    try:
        for status, code in ((503, "ServiceUnavailable"), (500, "InternalError"), (403, "Forbidden.RAM")):
            st, body = S.control("POST", "/_novakeys/faults",
                                 {"match": {"name": "flt-key"}, "action": {"status": status}, "times": 1})
            if st != 201:
                C.fail("POST /_novakeys/faults answered %s" % st, body)
                return
            C.error("CreateKeyPair under an injected %s" % status, lambda: d.call("create", name="flt-key"), status, code)
        C.eq("after the rules are spent the call goes through", d.call("create", name="flt-key").get("KeyPairName"), "flt-key")
    finally:
        S.control("DELETE", "/_novakeys/faults")


# ---- cross-front ---------------------------------------------------------------------------------

def openstack(cloud, *args):
    p = subprocess.run(["openstack", "--os-cloud", cloud] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def test_crossfront(S):
    S.reset()
    d = make_driver(S, "acs3")
    pub = gen_public_key("rsa") + " xf@alibaba"
    body = d.call("import", name="xf-ali", pub=pub)
    rc, out, err = openstack("demo", "keypair", "show", "xf-ali", "-f", "json")
    C.ok("openstack keypair show xf-ali (imported through Alibaba) as demo", rc == 0, out, err)
    nova = json.loads(out) if rc == 0 else {}
    C.eq("Nova shows the same fingerprint", nova.get("fingerprint"), body.get("KeyPairFingerPrint"))
    C.eq("... which is ssh-keygen's MD5", nova.get("fingerprint"), md5_fingerprint(pub))
    rc, out, err = openstack("admin", "keypair", "list", "-f", "json")
    C.ok("admin's Nova list does not show demo's Alibaba key pair", rc == 0 and "xf-ali" not in [k.get("Name") for k in json.loads(out)], out, err)

    rc, out, err = openstack("demo", "keypair", "create", "xf-nova")
    C.ok("openstack keypair create xf-nova as demo", rc == 0, out, err)
    rc, out, err = openstack("demo", "keypair", "show", "xf-nova", "-f", "json")
    nova_fp = json.loads(out).get("fingerprint") if rc == 0 else None
    desc = d.call("describe", region="cn-hangzhou", name="xf-nova", include_public_key=True)
    C.eq("DescribeKeyPairs (cn-hangzhou) lists the Nova key pair", names_of(desc), ["xf-nova"])
    if names_of(desc) == ["xf-nova"]:
        it = one(desc, "xf-nova")
        C.eq("... with Nova's fingerprint", it.get("KeyPairFingerPrint"), nova_fp)
        C.eq("... which is ssh-keygen's MD5 of its PublicKey", it.get("KeyPairFingerPrint"), md5_fingerprint(it.get("PublicKey") or ""))
        C.match("... and a CreationTime in Alibaba's format", it.get("CreationTime"), r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$")

    rc, out, err = openstack("demo", "keypair", "delete", "xf-ali")
    C.ok("openstack keypair delete xf-ali", rc == 0, out, err)
    C.eq("deleted through Nova -> gone from DescribeKeyPairs", names_of(describe_all(d, name="xf-ali")), [])
    d.call("delete", names=jarr("xf-nova"))
    rc, out, err = openstack("demo", "keypair", "show", "xf-nova")
    C.ok("deleted through Alibaba -> openstack keypair show fails", rc != 0, out)
    rc, out, err = openstack("demo", "keypair", "list", "-f", "json")
    C.ok("deleted through Alibaba -> not in openstack keypair list", rc == 0 and "xf-nova" not in [k.get("Name") for k in json.loads(out)], out, err)


TESTS = [test_create, test_import, test_names, test_duplicates, test_tags, test_regions_groups, test_describe,
         test_delete, test_quota, test_attach, test_signatures, test_access, test_faults]


def main(argv):
    url = argv[1]
    clients = ["tea-acs3", "tea-rpc", "legacy"]
    crossfront = True
    only = None
    for a in argv[2:]:
        if a.startswith("--clients="):
            clients = a.split("=", 1)[1].split(",")
        elif a == "--no-crossfront":
            crossfront = False
        elif a.startswith("--only="):
            only = a.split("=", 1)[1].split(",")
    S = Server(url)
    for name in clients:
        mode = name.replace("tea-", "")
        d = make_driver(S, mode)
        C.scope = name
        print("\n== %s" % name, flush=True)
        for t in TESTS:
            if only and t.__name__ not in only:
                continue
            C.run(t.__name__, t, S, d)
    if crossfront:
        C.scope = "cross-front"
        print("\n== cross-front (Alibaba <-> Nova, openstack CLI)", flush=True)
        C.run("test_crossfront", test_crossfront, S)
    C.scope = ""
    print("\nalibaba-python: %d passed, %d failed" % (C.passed, C.failed))
    return 0 if C.failed == 0 and C.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
