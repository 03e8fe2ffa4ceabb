"""The novakeys pytest plugin, driven as its users drive it (openstacksdk + the fixture).

compat/pytest/run.sh runs these against the binary `pip install ./python` installed. The tests
run in file order: test_reset_* proves what test_leaves_state_behind left is gone.
"""

import datetime
import importlib.metadata
import os
import subprocess
import urllib.request

import openstack.exceptions
import pytest

import novakeys as novakeys_pkg

LEFT_BEHIND = {}


def keypair_names(conn):
    return sorted(k.name for k in conn.compute.keypairs())


def created_at(conn, name):
    """The key pair's created_at (the create answer has none before microversion 2.2x)."""
    return conn.compute.get_keypair(name).created_at


def test_leaves_state_behind(novakeys):
    conn = novakeys.connect("demo")
    kp = conn.compute.create_keypair(name="left-behind")
    assert kp.private_key.startswith("-----BEGIN")
    assert keypair_names(conn) == ["left-behind"]
    # a rule that would fail every later list, and a frozen clock
    novakeys.fault(503, method="GET", path="/v2.1/os-keypairs*", times=1000)
    novakeys.set_clock("2001-02-03T04:05:06Z")
    assert novakeys.clock()["frozen"] is True
    LEFT_BEHIND["server"] = novakeys.compute_url


def test_reset_between_tests(novakeys):
    assert LEFT_BEHIND, "test_leaves_state_behind must run first (it makes what this test proves gone)"
    assert novakeys.compute_url == LEFT_BEHIND["server"], "one server for the session"
    assert novakeys.faults() == []
    assert novakeys.clock()["frozen"] is False
    assert novakeys.journal() == []
    conn = novakeys.connect("demo")
    assert keypair_names(conn) == []  # the previous test's key pair is gone
    now = datetime.datetime.now(datetime.timezone.utc)
    conn.compute.create_keypair(name="fresh")
    created = datetime.datetime.fromisoformat(created_at(conn, "fresh").replace("Z", "")[:19])
    assert abs(created.replace(tzinfo=datetime.timezone.utc) - now) < datetime.timedelta(minutes=5)


def test_fault_rule_reaches_openstacksdk(novakeys):
    conn = novakeys.connect("demo")
    rule = novakeys.fault(503, method="POST", path="/v2.1/os-keypairs*", times=1)
    with pytest.raises(openstack.exceptions.HttpException) as err:
        conn.compute.create_keypair(name="web")
    assert err.value.status_code == 503
    assert err.value.response.headers.get("X-Novakeys-Fault") == rule["id"]
    # times=1: the next one goes through
    conn.compute.create_keypair(name="web")
    assert keypair_names(conn) == ["web"]
    posts = novakeys.journal(method="POST", path="/v2.1/os-keypairs")
    assert [e["status"] for e in posts] == [503, 201]
    [listed] = novakeys.faults()
    assert listed["id"] == rule["id"] and listed["hits"] == 1
    novakeys.remove_fault(rule)
    assert novakeys.faults() == []
    novakeys.fault("conflict", method="POST", name="db")
    with pytest.raises(openstack.exceptions.HttpException) as err:
        conn.compute.create_keypair(name="db")
    assert err.value.status_code == 409
    novakeys.clear_faults()
    conn.compute.create_keypair(name="db")
    assert keypair_names(conn) == ["db", "web"]


@pytest.mark.novakeys_clock("2030-01-01T00:00:00Z")
def test_clock_marker_shows_in_created_at(novakeys):
    conn = novakeys.connect("demo")
    conn.compute.create_keypair(name="then")
    assert created_at(conn, "then").startswith("2030-01-01T00:00:00")
    novakeys.advance(datetime.timedelta(days=1, hours=2))
    conn.compute.create_keypair(name="later")
    assert created_at(conn, "later").startswith("2030-01-02T02:00:00")
    clock = novakeys.clock()
    assert clock["frozen"] is True and clock["now"].startswith("2030-01-02T02:00:00")


def test_clock_set_and_freeze(novakeys):
    novakeys.set_clock(datetime.datetime(2029, 6, 1, 12, 0, 0))
    conn = novakeys.connect("admin")
    conn.compute.create_keypair(name="k")
    assert created_at(conn, "k").startswith("2029-06-01T12:00:00")
    novakeys.set_clock(None)
    assert novakeys.clock()["frozen"] is False
    frozen = novakeys.freeze()
    assert frozen["frozen"] is True and not frozen["now"].startswith("2029")


def test_snapshot_and_restore(novakeys):
    conn = novakeys.connect("demo")
    conn.compute.create_keypair(name="kept")
    novakeys.snapshot("one")
    assert "one" in str(novakeys.snapshots())
    conn.compute.create_keypair(name="dropped")
    assert keypair_names(conn) == ["dropped", "kept"]
    novakeys.restore("one")
    conn = novakeys.connect("demo")  # a restore drops the tokens issued since
    assert keypair_names(conn) == ["kept"]
    novakeys.delete_snapshot("one")
    with pytest.raises(novakeys_pkg.NovakeysError) as err:
        novakeys.restore("one")
    assert err.value.status == 404


def test_every_front_and_user(novakeys):
    assert sorted(novakeys.urls) == sorted(novakeys_pkg._server.FRONTS)
    for url in novakeys.urls.values():
        with urllib.request.urlopen(url + "/healthcheck") as r:
            assert r.read() == b"OK"
    assert novakeys.clouds == {
        "admin": "novakeys-admin", "demo": "novakeys", "reader": "novakeys-reader"}
    for user in ("admin", "reader"):
        assert keypair_names(novakeys.connect(user)) == []
    # OS_CLIENT_CONFIG_FILE points the stock config loader at the same clouds
    assert os.environ["OS_CLIENT_CONFIG_FILE"] == novakeys.clouds_yaml
    conn = openstack.connect(cloud="novakeys")
    conn.compute.create_keypair(name="via-env")
    assert keypair_names(novakeys.connect("demo")) == ["via-env"]


def test_credentials_of_the_other_clouds(novakeys):
    ali = novakeys.credentials("alibaba", "demo")
    assert ali["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "LTAI5tNovakeysDemo000001"
    assert ali["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] == "NovakeysDemoAlibabaSecret00001"
    assert "http://" + ali["ALIBABA_CLOUD_ECS_ENDPOINT"] == novakeys.urls["alibaba"]
    tc = novakeys.credentials("tencent", "admin")
    assert tc["TENCENTCLOUD_SECRET_ID"] == "AKIDNovakeysAdmin0000000000000000001"
    assert tc["TENCENTCLOUD_ENDPOINT"] == novakeys.urls["tencent"]
    assert novakeys.credentials("twcc")["_TWCC_API_KEY_"] == "nk-twcc-demo-key-0001"


@pytest.mark.novakeys_fixtures("fixtures/alice.yaml")
def test_fixtures_marker(novakeys, novakeys_server):
    assert novakeys.compute_url != novakeys_server.compute_url
    assert novakeys.clouds == {"alice": "novakeys-alice"}
    conn = novakeys.connect("alice")
    conn.compute.create_keypair(name="alices")
    assert keypair_names(conn) == ["alices"]
    assert "alices" not in keypair_names(novakeys_server.connect("demo"))


def test_binary_is_the_packages_version(novakeys):
    out = subprocess.run([novakeys.binary, "--version"], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["novakeys", importlib.metadata.version("novakeys")]
