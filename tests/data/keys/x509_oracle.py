#!/usr/bin/env python3
"""Make x509-vectors.json: PEM texts and what cryptography 43's
load_pem_x509_certificate does with them (as Nova's generate_x509_fingerprint
sees it). Run: python3 x509_oracle.py > x509-vectors.json
Each entry is [label, text, result]; result is the colon SHA-1 fingerprint or a
tag: "PEM:<pem crate error, Debug form>", "NotACertificate", "BadDer",
"InvalidVersion(<n>)"."""
import base64
import binascii
import json
import os
import sys

import cryptography
from cryptography import x509
from cryptography.hazmat.primitives import hashes

assert cryptography.__version__.startswith("43."), cryptography.__version__
HERE = os.path.dirname(os.path.abspath(__file__))
PEM_PREFIX = ("Unable to load PEM file. See https://cryptography.io/en/latest/faq/"
              "#why-can-t-i-import-my-pem-file for more details. ")


def pem(label, b):
    b64 = base64.b64encode(b).decode()
    lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, lines, label)


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


def result(text):
    try:
        cert = x509.load_pem_x509_certificate(text.encode("utf-8"))
    except x509.InvalidVersion as e:
        return "InvalidVersion(%d)" % e.parsed_version
    except ValueError as e:
        msg = str(e)
        if msg.startswith(PEM_PREFIX):
            return "PEM:" + msg[len(PEM_PREFIX):]
        if msg.startswith("Valid PEM but no BEGIN CERTIFICATE"):
            return "NotACertificate"
        if msg.startswith("error parsing asn1 value"):
            return "BadDer"
        raise
    raw = binascii.hexlify(cert.fingerprint(hashes.SHA1())).decode()
    return ":".join(a + b for a, b in zip(raw[::2], raw[1::2]))


def main():
    rsa = read("x509-rsa.pem")
    ec = read("x509-ec.pem")
    der = base64.b64decode("".join(rsa.splitlines()[1:-1]))
    i = der.index(b"\xa0\x03\x02\x01\x02")
    v2 = bytearray(der)
    v2[i + 4] = 1
    v4 = bytearray(der)
    v4[i + 4] = 3
    v1 = bytearray(der)
    v1[i + 4] = 0
    v200 = bytearray(der)
    v200[i + 4] = 0x7F
    cases = [
        ("rsa", rsa),
        ("ec", ec),
        ("crlf", rsa.replace("\n", "\r\n")),
        ("no final newline", rsa.rstrip()),
        ("ssh key", read("rsa2048.pub")),
        ("empty", ""),
        ("public key", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"),
        ("mismatched tags", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END FOO-----\n"),
        ("bad base64", "-----BEGIN CERTIFICATE-----\nA!AA\n-----END CERTIFICATE-----\n"),
        ("not der", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        ("trailing der", pem("CERTIFICATE", der + b"\x00")),
        ("version v2", pem("CERTIFICATE", bytes(v2))),
        ("version 4", pem("CERTIFICATE", bytes(v4))),
        ("version 127", pem("CERTIFICATE", bytes(v200))),
        ("explicit default v1", pem("CERTIFICATE", bytes(v1))),
        ("no end line", rsa.replace("-----END CERTIFICATE-----", "")),
        ("empty body", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
        ("empty label", "-----BEGIN -----\nAAAA\n-----END -----\n"),
        ("x509 label", rsa.replace(" CERTIFICATE", " X509 CERTIFICATE")),
        ("two certs", ec + rsa),
        ("indented", rsa.replace("\n", "\n  ")),
        ("header", rsa.replace("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1)),
        ("bad header", rsa.replace("-----\n", "-----\nProc-Type 4,ENCRYPTED\n\n", 1)),
        ("unpadded", pem("CERTIFICATE", der).replace("=", "")),
        ("leading junk", "junk\n" + rsa),
        ("trusted certificate", pem("TRUSTED CERTIFICATE", der)),
        ("key then cert", read("x509-ec.pem").replace("CERTIFICATE", "PUBLIC KEY") + rsa),
    ]
    json.dump([[label, text, result(text)] for label, text in cases], sys.stdout, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
