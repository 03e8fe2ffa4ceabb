#!/usr/bin/env python3
"""Make oracle-vectors.json: ssh public key texts and what real Nova answers.

Run with Python `cryptography` 43 installed (the version Nova's captures were
made with):  python3 oracle.py [N_MUTATIONS] > oracle-vectors.json
Each entry is [label, public_key_text, fingerprint or "-" for invalid].
The tests only read the JSON; this script documents where it came from.
"""
import base64
import hashlib
import json
import os
import random
import struct
import sys
import warnings

import cryptography
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa

warnings.simplefilter("ignore")
assert cryptography.__version__.startswith("43."), cryptography.__version__
HERE = os.path.dirname(os.path.abspath(__file__))


def nova_fingerprint(public_key):
    """nova/crypto.py generate_fingerprint, with its catch-all."""
    try:
        serialization.load_ssh_public_key(public_key.encode("utf-8"))
        pub_data = base64.b64decode(public_key.split(" ")[1])
        raw_fp = hashlib.md5(pub_data).hexdigest()
        return ":".join(a + b for a, b in zip(raw_fp[::2], raw_fp[1::2]))
    except Exception:
        return "-"


def s(b):
    return struct.pack(">I", len(b)) + b


def mp(n):
    if n == 0:
        return s(b"")
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big")
    return s(raw)


def line(kind, blob, comment=" test"):
    return kind + " " + base64.b64encode(blob).decode() + comment


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


def blob_of(name):
    return base64.b64decode(read(name).split(" ")[1])


def fields(blob):
    out = []
    while blob:
        (n,) = struct.unpack(">I", blob[:4])
        out.append(blob[4 : 4 + n])
        blob = blob[4 + n :]
    return out


def main():
    rng = random.Random(43)
    n_mut = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    cases = []
    names = sorted(n for n in os.listdir(HERE) if n.endswith(".pub"))
    for n in names:
        t = read(n)
        kind, b64 = t.split(" ")[0], t.split(" ")[1].strip()
        cases += [
            (n, t),
            (n + " trimmed", t.rstrip()),
            (n + " no comment", kind + " " + b64),
            (n + " crlf", kind + " " + b64 + "\r\n"),
            (n + " tab", kind + "\t" + b64 + " c"),
            (n + " tab no comment", kind + "\t" + b64),
            (n + " tab b64 comment", kind + "\t" + b64 + " QUJD"),
            (n + " space tab", kind + " \t" + b64),
            (n + " double space", kind + "  " + b64),
            (n + " leading space", " " + kind + " " + b64),
            (n + " newline sep", kind + "\n" + b64),
            (n + " vt after", kind + " " + b64 + "\x0bx"),
            (n + " unicode comment", kind + " " + b64 + " ünï"),
            (n + " unicode in blob", kind + " " + b64[:8] + "é" + b64[8:]),
            (n + " junk in blob", kind + " " + b64[:8] + "!" + b64[8:]),
            (n + " pad in blob", kind + " " + b64[:9] + "=" + b64[9:]),
            (n + " no padding", kind + " " + b64.rstrip("=")),
            (n + " extra padding", kind + " " + b64 + "=="),
            (n + " truncated", kind + " " + b64[:-4]),
            (n + " options", "no-pty " + kind + " " + b64),
        ]

    rsa_e, rsa_n = fields(blob_of("rsa2048.pub"))[1:3]
    e = int.from_bytes(rsa_e, "big")
    n = int.from_bytes(rsa_n, "big")
    R = b"ssh-rsa"
    cases += [
        ("rsa e=1", line("ssh-rsa", s(R) + mp(1) + mp(n))),
        ("rsa e=3", line("ssh-rsa", s(R) + mp(3) + mp(n))),
        ("rsa e even", line("ssh-rsa", s(R) + mp(65536) + mp(n))),
        ("rsa n even", line("ssh-rsa", s(R) + mp(e) + mp(n - 1))),
        ("rsa e=n", line("ssh-rsa", s(R) + mp(n) + mp(n))),
        ("rsa e>n", line("ssh-rsa", s(R) + mp(n + 2) + mp(n))),
        ("rsa tiny n", line("ssh-rsa", s(R) + mp(3) + mp(5))),
        ("rsa n=3 e=3", line("ssh-rsa", s(R) + mp(3) + mp(3))),
        ("rsa n 512 bit", line("ssh-rsa", s(R) + mp(e) + mp(n >> 1536 | 1))),
        ("rsa leading zero mpint", line("ssh-rsa", s(R) + s(b"\x00\x00" + rsa_e) + mp(n))),
        ("rsa negative n", line("ssh-rsa", s(R) + mp(e) + s(b"\x80" + rsa_n))),
        ("rsa empty e", line("ssh-rsa", s(R) + s(b"") + mp(n))),
        ("rsa 16k n", line("ssh-rsa", s(R) + mp(e) + mp((1 << 16383) | 1))),
        ("rsa missing n", line("ssh-rsa", s(R) + mp(e))),
        ("rsa inner type case", line("ssh-rsa", s(b"SSH-RSA") + mp(e) + mp(n))),
        ("rsa as dss", line("ssh-dss", s(R) + mp(e) + mp(n))),
        ("unknown type", line("ssh-foo", s(b"ssh-foo") + mp(e) + mp(n))),
        ("rsa-sha2-256 type", line("rsa-sha2-256", s(b"rsa-sha2-256") + mp(e) + mp(n))),
    ]

    p, q, g, y = (int.from_bytes(x, "big") for x in fields(blob_of("dsa.pub"))[1:5])
    D = b"ssh-dss"
    cases += [
        ("dsa g=1", line("ssh-dss", s(D) + mp(p) + mp(q) + mp(1) + mp(y))),
        ("dsa g=p", line("ssh-dss", s(D) + mp(p) + mp(q) + mp(p) + mp(y))),
        ("dsa g=2", line("ssh-dss", s(D) + mp(p) + mp(q) + mp(2) + mp(y))),
        ("dsa q 100 bit", line("ssh-dss", s(D) + mp(p) + mp(q >> 60) + mp(g) + mp(y))),
        ("dsa q 224 bit", line("ssh-dss", s(D) + mp(p) + mp(q << 64) + mp(g) + mp(y))),
        ("dsa y=0", line("ssh-dss", s(D) + mp(p) + mp(q) + mp(g) + mp(0))),
        ("dsa y=p+1", line("ssh-dss", s(D) + mp(p) + mp(q) + mp(g) + mp(p + 1))),
        ("dsa p even", line("ssh-dss", s(D) + mp(p - 1) + mp(q) + mp(g) + mp(y))),
        ("dsa p 1023 bit", line("ssh-dss", s(D) + mp(p >> 1) + mp(q) + mp(g) + mp(y))),
    ]

    ec = fields(blob_of("ecdsa256.pub"))
    E = b"ecdsa-sha2-nistp256"
    pt = ec[2]
    bad_pt = pt[:-1] + bytes([pt[-1] ^ 1])
    cases += [
        ("ec wrong curve name", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp384") + s(pt))),
        ("ec compressed", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp256") + s(bytes([2 + (pt[-1] & 1)]) + pt[1:33]))),
        ("ec not on curve", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp256") + s(bad_pt))),
        ("ec empty point", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp256") + s(b""))),
        ("ec infinity", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp256") + s(b"\x00"))),
        ("ec short point", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp256") + s(pt[:-1]))),
        ("ec 384 point on 256", line("ecdsa-sha2-nistp256", s(E) + s(b"nistp256") + s(fields(blob_of("ecdsa384.pub"))[2]))),
        ("sk-ec app not ssh", line("sk-ecdsa-sha2-nistp256@openssh.com", s(b"sk-ecdsa-sha2-nistp256@openssh.com") + s(b"nistp256") + s(pt) + s(b"web:x"))),
        ("sk-ec app ssh:", line("sk-ecdsa-sha2-nistp256@openssh.com", s(b"sk-ecdsa-sha2-nistp256@openssh.com") + s(b"nistp256") + s(pt) + s(b"ssh:"))),
        ("sk-ec no app", line("sk-ecdsa-sha2-nistp256@openssh.com", s(b"sk-ecdsa-sha2-nistp256@openssh.com") + s(b"nistp256") + s(pt))),
    ]

    ed = fields(blob_of("ed25519.pub"))[1]
    X = b"ssh-ed25519"
    cases += [
        ("ed 31 bytes", line("ssh-ed25519", s(X) + s(ed[:31]))),
        ("ed 33 bytes", line("ssh-ed25519", s(X) + s(ed + b"\x00"))),
        ("ed zero key", line("ssh-ed25519", s(X) + s(b"\x00" * 32))),
        ("ed trailing", line("ssh-ed25519", s(X) + s(ed) + b"\x00")),
        ("ed length overflow", line("ssh-ed25519", s(X) + b"\xff\xff\xff\xff" + ed)),
        ("sk-ed app", line("sk-ssh-ed25519@openssh.com", s(b"sk-ssh-ed25519@openssh.com") + s(ed) + s(b"ssh:foo"))),
        ("sk-ed app bad", line("sk-ssh-ed25519@openssh.com", s(b"sk-ssh-ed25519@openssh.com") + s(ed) + s(b"sh:"))),
    ]

    # Certificates rebuilt field by field with variations.
    cert = blob_of("ed25519-cert.pub")
    # ed25519 cert: type nonce pk serial(8) type(4) ... -> fields() can't split
    # fixed-width ints, so rebuild from offsets.
    def parse_cert(blob, nkey):
        out = []
        r = blob
        def take_s():
            nonlocal r
            (n,) = struct.unpack(">I", r[:4])
            v = r[4 : 4 + n]
            r = r[4 + n :]
            return v
        def take(n):
            nonlocal r
            v = r[:n]
            r = r[n:]
            return v
        out.append(("s", take_s()))  # type
        out.append(("s", take_s()))  # nonce
        for _ in range(nkey):
            out.append(("s", take_s()))
        out.append(("r", take(8)))  # serial
        out.append(("r", take(4)))  # type
        out.append(("s", take_s()))  # key id
        out.append(("s", take_s()))  # principals
        out.append(("r", take(8)))
        out.append(("r", take(8)))
        for _ in range(5):  # crit opts, exts, reserved, sig key, signature
            out.append(("s", take_s()))
        assert r == b"", r
        return out

    def build(parts):
        return b"".join(s(v) if k == "s" else v for k, v in parts)

    pc = parse_cert(cert, 1)
    assert build(pc) == cert
    C = "ssh-ed25519-cert-v01@openssh.com"

    def variant(label, idx, value):
        parts = list(pc)
        parts[idx] = (parts[idx][0], value)
        cases.append(("cert " + label, line(C, build(parts))))

    # indexes: 0 type,1 nonce,2 key,3 serial,4 type,5 keyid,6 principals,
    # 7 after,8 before,9 crit,10 exts,11 reserved,12 sigkey,13 signature
    cases.append(("cert as is", line(C, cert)))
    cases.append(("cert trailing", line(C, cert + b"\x00")))
    variant("unsorted exts", 10, s(b"permit-pty") + s(b"") + s(b"permit-X11-forwarding") + s(b""))
    variant("dup exts", 10, s(b"permit-pty") + s(b"") + s(b"permit-pty") + s(b""))
    variant("ext value nested", 10, s(b"a") + s(s(b"v")))
    variant("ext value not nested", 10, s(b"a") + s(b"v"))
    variant("ext value extra", 10, s(b"a") + s(s(b"v") + b"x"))
    variant("bad principals", 6, s(b"alice") + b"\x00\x00")
    variant("empty principals", 6, b"")
    variant("sig type mismatch", 13, s(b"ssh-rsa") + s(b"x" * 64))
    variant("sig trailing", 13, s(b"ssh-ed25519") + s(b"x" * 64) + b"\x00")
    variant("sig key empty", 12, b"")
    variant("sig key dss", 12, s(b"ssh-dss") + s(b"x"))
    variant("sig key rsa sig ssh-rsa", 12, s(b"ssh-rsa"))
    variant("reserved nonempty", 11, b"xyz")
    variant("short key", 2, ed[:31])
    parts = list(pc)
    parts[12] = ("s", s(b"ssh-rsa") + s(b"\x01\x00\x01"))
    for st in [b"ssh-rsa", b"rsa-sha2-256", b"rsa-sha2-512", b"rsa-sha2-384"]:
        parts[13] = ("s", s(st) + s(b"x"))
        cases.append(("cert rsa sig " + st.decode(), line(C, build(parts))))
    cases.append(("cert inner type mismatch", line("ssh-ed25519-cert-v01@openssh.com", blob_of("rsa2048-cert.pub"))))
    cases.append(("plain key as cert", line("ssh-ed25519-cert-v01@openssh.com", blob_of("ed25519.pub"))))
    cases.append(("cert as plain key", line("ssh-ed25519", cert)))

    # DSA 2048 via real parameters (OpenSSH itself never makes them).
    priv = dsa.generate_private_key(2048)
    nums = priv.public_key().public_numbers()
    pn = nums.parameter_numbers
    dsa2048 = line("ssh-dss", s(D) + mp(pn.p) + mp(pn.q) + mp(pn.g) + mp(nums.y), " dsa2048")
    with open(os.path.join(HERE, "dsa2048.pub"), "w") as f:
        f.write(dsa2048 + "\n")
    cases.append(("dsa 2048", dsa2048))

    cases += [
        ("empty", ""),
        ("type only", "ssh-rsa"),
        ("type space", "ssh-rsa "),
        ("AAAA", "ssh-rsa AAAA"),
        ("pem", read("x509-rsa.pem")),
        ("dashes", "---- BEGIN SSH2 PUBLIC KEY ----"),
    ]

    # Random mutations of the valid keys.
    valid = [read(n) for n in names]
    for i in range(n_mut):
        t = rng.choice(valid)
        kind, b64 = t.split(" ")[0], t.split(" ")[1].strip()
        raw = bytearray(base64.b64decode(b64))
        op = rng.randrange(5)
        if op == 0:
            j = rng.randrange(len(raw))
            raw[j] ^= 1 << rng.randrange(8)
        elif op == 1:
            del raw[rng.randrange(len(raw)) :]
        elif op == 2:
            raw.insert(rng.randrange(len(raw) + 1), rng.randrange(256))
        elif op == 3:
            j = rng.randrange(max(1, len(raw) - 4))
            raw[j : j + 4] = b"\xff\xff\xff\xff"
        else:
            chars = list(b64)
            j = rng.randrange(len(chars))
            chars[j] = rng.choice("AZaz09+/=!. \t-")
            cases.append(("mut b64 %d" % i, kind + " " + "".join(chars) + " x"))
            continue
        cases.append(("mut %d" % i, kind + " " + base64.b64encode(bytes(raw)).decode() + " x"))

    json.dump([[label, text, nova_fingerprint(text)] for label, text in cases], sys.stdout, indent=0, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
