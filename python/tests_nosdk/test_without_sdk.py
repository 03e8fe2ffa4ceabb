"""The plugin in a venv with pytest and no openstacksdk (compat/pytest/run.sh makes one):
everything but connect() works, and connect() says what to install."""

import json
import urllib.error
import urllib.request

import pytest

import novakeys as novakeys_pkg


def login(nk):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"name": "Default"}, "password": "demo"}}}}}
    req = urllib.request.Request(
        nk.auth_url + "/auth/tokens", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_no_openstacksdk_here():
    with pytest.raises(ImportError):
        import openstack  # noqa: F401


def test_controls_without_openstacksdk(novakeys):
    assert login(novakeys) == 201
    novakeys.fault(503, method="POST", path="/v3/auth/tokens", times=1)
    assert login(novakeys) == 503
    assert [e["status"] for e in novakeys.journal(path="/v3/auth/tokens")] == [201, 503]
    with pytest.raises(novakeys_pkg.NovakeysError, match="openstacksdk"):
        novakeys.connect("demo")
