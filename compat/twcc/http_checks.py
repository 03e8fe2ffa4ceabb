#!/usr/bin/env python3
"""Raw-HTTP checks of the TWCC key pair API, for what twcc-cli does not exercise.

Standard library only (http.client sends paths byte for byte, so %2F reaches the server
unchanged). Prints "ok   ..." / "FAIL ..." per check, like compat/python/check.sh; exits 1 if
any check failed. Uses key pair names starting with "raw" and removes what it makes.

usage: http_checks.py URL    (NOVAKEYS_TWCC_URL, http://127.0.0.1:PORT)
"""
import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

SITE = "openstack-taichung-default-2"
KEYS = {"demo": "nk-twcc-demo-key-0001", "admin": "nk-twcc-admin-key-0001",
        "reader": "nk-twcc-reader-key-0001"}
CHECKS = 0
FAILURES = 0
URL = urlsplit(sys.argv[1])


def check(what, cond, *evidence):
    global CHECKS, FAILURES
    CHECKS += 1
    if cond:
        print("ok   " + what)
    else:
        FAILURES += 1
        print("FAIL " + what)
        for e in evidence:
            for line in str(e).splitlines() or [""]:
                print("     | " + line)
    return cond


class Resp:
    def __init__(self, status, ctype, body, error=None):
        self.status, self.ctype, self.body, self.error = status, ctype, body, error

    def json(self):
        try:
            return json.loads(self.body)
        except Exception:
            return None

    def __str__(self):
        if self.error:
            return "no response: %s" % self.error
        b = self.body[:400].decode("utf-8", "replace")
        return "HTTP %s, Content-Type %s, body %r" % (self.status, self.ctype, b)


def call(method, path, user="demo", body=None, api_key=None, site_header=SITE, extra=None,
         lowercase=False):
    """One request. user=None sends no x-api-key; api_key overrides the user's key."""
    headers = {"Content-Type": "application/json", "User-Agent": "novakeys-compat-twcc"}
    key = api_key if api_key is not None else (KEYS[user] if user else None)
    # twcc-cli's spelling is "x-API-KEY" / "X-API-HOST"; the TWCC docs write them lower case.
    kname, hname = ("x-api-key", "x-api-host") if lowercase else ("x-API-KEY", "X-API-HOST")
    if key is not None:
        headers[kname] = key
    if site_header is not None:
        headers[hname] = site_header
    headers.update(extra or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
    try:
        try:
            conn.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError) as e:
            sent_error = e  # the server may have answered before reading the whole body
        else:
            sent_error = None
        try:
            r = conn.getresponse()
            data = r.read()
        except Exception as e:
            return Resp(None, None, b"", error="%s (while sending: %s)" % (e, sent_error))
        return Resp(r.status, r.getheader("Content-Type") or "", data)
    finally:
        conn.close()


def kp(prefix="v2", name=None):
    p = "/api/%s/%s/keypairs/" % (prefix, SITE)
    return p + name + "/" if name is not None else p


def is_drf_error(r, status=None):
    """A DRF-style error: JSON object whose "detail" is a non-empty string."""
    j = r.json()
    ok_status = (r.status == status) if isinstance(status, int) else (
        r.status is not None and (r.status in status if status else 400 <= r.status < 500))
    return (ok_status and r.ctype.startswith("application/json") and isinstance(j, dict)
            and isinstance(j.get("detail"), str) and j["detail"] != "")


def names(user="demo"):
    r = call("GET", kp(), user)
    j = r.json()
    if r.status != 200 or not isinstance(j, list):
        return None
    return sorted(x.get("name") for x in j)


def md5_fingerprint(public_key):
    d = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(d[i:i + 2] for i in range(0, 32, 2))


def public_of_private(pem):
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "k.pem")
        with open(p, "wb") as f:
            f.write(pem)
        os.chmod(p, 0o600)
        r = subprocess.run(["ssh-keygen", "-y", "-f", p], capture_output=True)
        return r.stdout.decode().strip() if r.returncode == 0 else None


def new_public_key(kind="ed25519"):
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "id")
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "raw@compat", "-f", p],
                       check=True)
        return open(p + ".pub").read().strip()


def user_ok(u, username):
    return (isinstance(u, dict) and all(isinstance(u.get(k), str) for k in
                                        ("id", "display_name", "username", "email"))
            and u["username"] == username)


TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def section(title):
    print("\n== raw HTTP: " + title)


def main():
    before = names()
    check("GET %s as demo answers a JSON array" % kp(), before is not None, call("GET", kp()))
    before = before or []

    section("generate through /api/v3/ (the documented prefix), read and delete through both")
    r = call("POST", kp("v3"), body={"name": "raw-v3"})
    check("POST /api/v3/.../keypairs/ {name} -> 200", r.status == 200, r)
    check("... Content-Type text/plain (the PEM is the raw body, not JSON)",
          (r.ctype or "").startswith("text/plain"), r)
    pem = r.body
    check("... body is a PEM private key", re.match(rb"^-----BEGIN [A-Z ]*PRIVATE KEY-----\n", pem)
          is not None and pem.rstrip().endswith(b"PRIVATE KEY-----"), r)
    pub = public_of_private(pem)
    check("... ssh-keygen -y reads it", pub is not None, r)
    r = call("GET", kp("v3"))
    lst = r.json()
    check("GET /api/v3/.../keypairs/ -> 200 application/json", r.status == 200 and
          r.ctype.startswith("application/json") and isinstance(lst, list), r)
    item = next((x for x in (lst or []) if isinstance(x, dict) and x.get("name") == "raw-v3"), None)
    check("... lists raw-v3", item is not None, r)
    item = item or {}
    check("... list item has name, fingerprint, platform (strings) and user {id, display_name, username, email}",
          all(isinstance(item.get(k), str) for k in ("name", "fingerprint", "platform"))
          and user_ok(item.get("user"), "demo"), item)
    if pub:
        check("... its fingerprint is the MD5 of the generated key (colon hex)",
              item.get("fingerprint") == md5_fingerprint(pub), item, md5_fingerprint(pub))
    r2 = call("GET", kp("v2", "raw-v3"))
    r3 = call("GET", kp("v3", "raw-v3"))
    d = r2.json() or {}
    check("GET /api/v2/.../keypairs/raw-v3/ -> 200 (one store behind both prefixes)", r2.status == 200, r2)
    check("GET /api/v3/.../keypairs/raw-v3/ -> the same object", r3.status == 200 and r3.json() == d, r3, r2)
    check("... detail has name, fingerprint, platform, user, public_key, create_time",
          all(isinstance(d.get(k), str) for k in ("name", "fingerprint", "platform", "public_key", "create_time"))
          and user_ok(d.get("user"), "demo") and d.get("name") == "raw-v3", d)
    check("... create_time is YYYY-MM-DDTHH:MM:SS.ffffffZ (what twcc-cli can parse)",
          TIME_RE.match(d.get("create_time") or "") is not None, d.get("create_time"))
    if TIME_RE.match(d.get("create_time") or ""):
        t = datetime.datetime.strptime(d["create_time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        age = (datetime.datetime.utcnow() - t).total_seconds()
        check("... create_time is UTC and recent (%.0fs ago)" % age, -60 < age < 600, d["create_time"])
    if pub:
        check("... public_key is the generated key's", (d.get("public_key") or "").split()[:2] == pub.split()[:2],
              d.get("public_key"), pub)
    check("... fingerprint as in the list", d.get("fingerprint") == item.get("fingerprint"), d, item)
    r = call("DELETE", kp("v3", "raw-v3"))
    check("DELETE /api/v3/.../keypairs/raw-v3/ -> 204, empty body", r.status == 204 and r.body == b"", r)
    r = call("GET", kp("v2", "raw-v3"))
    check("GET after delete -> 404 {\"detail\": \"Not found.\"}",
          r.status == 404 and r.json() == {"detail": "Not found."} and r.ctype.startswith("application/json"), r)
    r = call("DELETE", kp("v3", "raw-v3"))
    check("DELETE again -> 404 {\"detail\": \"Not found.\"}", r.status == 404 and r.json() == {"detail": "Not found."}, r)

    section("import, duplicate")
    pk = new_public_key("rsa")
    r = call("POST", kp(), body={"name": "raw-imp", "public_key": pk}, lowercase=True)
    check("POST {name, public_key} with the docs' lower-case headers -> 200", r.status == 200, r)
    check("... the answer carries no private key", b"PRIVATE KEY" not in r.body, r)
    d = call("GET", kp("v2", "raw-imp")).json() or {}
    check("... detail public_key is the imported key, verbatim", d.get("public_key") == pk, d.get("public_key"), pk)
    check("... fingerprint is its MD5", d.get("fingerprint") == md5_fingerprint(pk), d.get("fingerprint"))
    for body in ({"name": "raw-imp"}, {"name": "raw-imp", "public_key": new_public_key()}):
        r = call("POST", kp(), body=body)
        check("POST %s again -> 400 {\"detail\": \"Keypair already exists.\"}" % sorted(body),
              r.status == 400 and r.json() == {"detail": "Keypair already exists."}, r)
    d2 = call("GET", kp("v2", "raw-imp")).json() or {}
    check("... the stored key is unchanged", d2.get("public_key") == pk, d2)

    section("sites and API keys")
    for path, hdr, what in ((kp().replace(SITE, "openstack-nowhere-1"), "openstack-nowhere-1", "unknown site"),
                            (kp(), None, "no x-api-host header")):
        r = call("GET", path, site_header=hdr)
        check("GET with %s -> 4xx {\"detail\": ...}" % what, is_drf_error(r), r)
        r = call("POST", path, site_header=hdr, body={"name": "raw-site"})
        check("POST with %s -> 4xx {\"detail\": ...}" % what, is_drf_error(r), r)
    check("... and nothing was stored", "raw-site" not in (names() or []), names())
    r = call("GET", kp(), user=None)
    check("GET without x-api-key -> 401/403 {\"detail\": ...}", is_drf_error(r, (401, 403)), r)
    r = call("GET", kp("v3"), user=None)
    check("GET /api/v3/ without x-api-key -> 401/403 {\"detail\": ...}", is_drf_error(r, (401, 403)), r)
    r = call("GET", kp(), api_key="nk-twcc-no-such-key")
    check("GET with an unknown API key -> 401/403 {\"detail\": ...}", is_drf_error(r, (401, 403)), r)
    r = call("POST", kp(), api_key="nk-twcc-no-such-key", body={"name": "raw-badkey"})
    check("POST with an unknown API key -> 401/403 {\"detail\": ...}", is_drf_error(r, (401, 403)), r)
    r = call("DELETE", kp("v2", "raw-imp"), api_key="nk-twcc-no-such-key")
    check("DELETE with an unknown API key -> 401/403 {\"detail\": ...}", is_drf_error(r, (401, 403)), r)
    r = call("GET", kp("v2", "raw-imp"))
    check("... and raw-imp is still there, raw-badkey was not made",
          r.status == 200 and "raw-badkey" not in (names() or []), r)

    section("names with / and %2F")
    for name in ("raw%2Fimp", "raw/imp", "a%2Fb", "a/b"):
        for method in ("GET", "DELETE"):
            r = call(method, kp("v2", name))
            check("%s .../keypairs/%s/ -> 404 {\"detail\": \"Not found.\"}" % (method, name),
                  r.status == 404 and r.json() == {"detail": "Not found."}, r)
    check("... raw-imp survived", call("GET", kp("v2", "raw-imp")).status == 200)
    for name in ("raw/slash", "raw%2Fslash"):
        r = call("POST", kp(), body={"name": name})
        check("POST {\"name\": %r} -> 400 {\"detail\": ...}" % name, is_drf_error(r, 400), r)

    section("bad bodies: 400 {\"detail\": ...}, nothing stored")
    big = json.dumps({"name": "raw-big", "public_key": "ssh-rsa " + "A" * (1024 * 1024)})
    bodies = [("a 1 MB body", big), ("bad JSON", '{"name": '), ("a JSON array", "[]"),
              ("no name", "{}"), ("a numeric name", '{"name": 5}'), ("an empty name", '{"name": ""}'),
              ("a public key that is not one", '{"name": "raw-badpub", "public_key": "ssh-rsa notbase64!"}'),
              ("a form body", "name=raw-form")]
    for what, body in bodies:
        r = call("POST", kp(), body=body)
        check("POST with %s -> 400 {\"detail\": ...}" % what, is_drf_error(r, 400), r)
    now = names() or []
    check("... none of them stored a key pair",
          not any(n in now for n in ("raw-big", "raw-badpub", "raw-form")) and
          sorted(now) == sorted(set(before) | {"raw-imp"}), now)

    section("one user's API key never sees another's key pairs (demo vs admin)")
    r = call("POST", kp(), body={"name": "raw-iso", "public_key": pk})
    check("demo imports raw-iso", r.status == 200, r)
    check("admin's list does not show demo's key pairs",
          not set(names("admin") or ["?"]) & {"raw-iso", "raw-imp"}, names("admin"))
    for method in ("GET", "DELETE"):
        r = call(method, kp("v2", "raw-iso"), user="admin")
        check("admin %s demo's raw-iso -> 404 {\"detail\": \"Not found.\"}" % method,
              r.status == 404 and r.json() == {"detail": "Not found."}, r)
    other = new_public_key()
    r = call("POST", kp(), user="admin", body={"name": "raw-iso", "public_key": other})
    check("admin may import its own raw-iso (names are per user)", r.status == 200, r)
    da = call("GET", kp("v2", "raw-iso"), user="admin").json() or {}
    dd = call("GET", kp("v2", "raw-iso")).json() or {}
    check("... admin's raw-iso is admin's key, demo's is demo's",
          da.get("public_key") == other and dd.get("public_key") == pk and user_ok(da.get("user"), "admin"),
          da, dd)
    r = call("DELETE", kp("v2", "raw-iso"), user="admin")
    check("admin deletes its raw-iso -> 204", r.status == 204, r)
    check("... demo's raw-iso is still there", call("GET", kp("v2", "raw-iso")).status == 200)

    section("reader may list, not create or delete")
    r = call("GET", kp(), user="reader")
    check("reader GET list -> 200 JSON array", r.status == 200 and isinstance(r.json(), list), r)
    r = call("POST", kp(), user="reader", body={"name": "raw-reader"})
    check("reader POST -> 403 {\"detail\": ...}", is_drf_error(r, 403), r)
    check("... nothing stored", "raw-reader" not in (names("reader") or []), names("reader"))

    for name in ("raw-iso", "raw-imp"):
        r = call("DELETE", kp("v2", name))
        check("cleanup: DELETE %s -> 204" % name, r.status == 204, r)
    check("demo's list is back to what it was", names() == sorted(before), names(), before)

    print("\nhttp_checks: %d checks, %d failed" % (CHECKS, FAILURES))
    return 1 if FAILURES or not CHECKS else 0


if __name__ == "__main__":
    sys.exit(main())
