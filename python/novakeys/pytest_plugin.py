"""pytest plugin (entry point ``pytest11``): a novakeys server per session, a clean state per test.

Fixtures:
  ``novakeys``         function scope: the session's server (a :class:`novakeys.Server`), reset
                       to the fixtures before the test, ``OS_CLIENT_CONFIG_FILE`` pointing at
                       its clouds.yaml for the test's duration.
  ``novakeys_server``  session scope: the same server, not reset.
Options: ``--novakeys-binary PATH`` (else ``$NOVAKEYS_BIN``, else the binary this package
installed), ``--novakeys-seed N`` (deterministic mode), ``--novakeys-fixtures FILE``.
Markers: ``novakeys_fixtures(FILE)`` (the test gets a server started with those fixtures,
one per file for the session), ``novakeys_clock(TIME)`` (the clock frozen at TIME for the
test).
"""

import os

import pytest

from ._server import NovakeysError, Server, find_binary


def pytest_addoption(parser):
    group = parser.getgroup("novakeys", "novakeys emulator")
    group.addoption(
        "--novakeys-binary",
        metavar="PATH",
        help="novakeys binary to run (default: $NOVAKEYS_BIN, else the one the novakeys "
        "package installed, else PATH)",
    )
    group.addoption(
        "--novakeys-seed",
        metavar="N",
        type=int,
        help="run novakeys in deterministic mode (serve --seed N); every reset rewinds it",
    )
    group.addoption(
        "--novakeys-fixtures",
        metavar="FILE",
        help="bootstrap fixtures (YAML) of the session's server (default: the built-in ones)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "novakeys_fixtures(path): run the test against a novakeys server started with these "
        "bootstrap fixtures (YAML; relative to the test file)",
    )
    config.addinivalue_line(
        "markers",
        "novakeys_clock(time): freeze the novakeys clock at this RFC 3339 time (or datetime) "
        "for the test",
    )


def pytest_report_header(config):
    try:
        binary = find_binary(config.getoption("novakeys_binary"))
    except NovakeysError as e:
        return f"novakeys binary: none ({e})"
    return f"novakeys binary: {binary}"


class _Servers:
    """The session's servers, one per fixtures file, started when first needed."""

    def __init__(self, config, tmp_path_factory):
        self.config = config
        self.tmp = tmp_path_factory
        self.servers = {}

    def get(self, fixtures=None):
        if fixtures is None:
            fixtures = self.config.getoption("novakeys_fixtures")
            if fixtures:
                fixtures = os.path.abspath(fixtures)
        if fixtures not in self.servers:
            self.servers[fixtures] = Server.start(
                binary=self.config.getoption("novakeys_binary"),
                seed=self.config.getoption("novakeys_seed"),
                fixtures=fixtures,
                workdir=str(self.tmp.mktemp("novakeys")),
            )
        return self.servers[fixtures]

    def stop(self):
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


@pytest.fixture(scope="session")
def novakeys_servers(request, tmp_path_factory):
    pool = _Servers(request.config, tmp_path_factory)
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def novakeys_server(novakeys_servers):
    """The session's novakeys server (not reset: see ``novakeys``)."""
    return novakeys_servers.get()


@pytest.fixture
def novakeys(request, novakeys_servers, monkeypatch):
    """The session's novakeys server, reset to its fixtures for this test."""
    marker = request.node.get_closest_marker("novakeys_fixtures")
    fixtures = None
    if marker is not None:
        if len(marker.args) != 1:
            raise pytest.UsageError("novakeys_fixtures takes one argument: the YAML file")
        fixtures = os.fspath(marker.args[0])
        if not os.path.isabs(fixtures):
            fixtures = os.path.join(os.path.dirname(str(request.path)), fixtures)
        fixtures = os.path.abspath(fixtures)
    server = novakeys_servers.get(fixtures)
    server.reset()
    clock = request.node.get_closest_marker("novakeys_clock")
    if clock is not None:
        if len(clock.args) != 1:
            raise pytest.UsageError("novakeys_clock takes one argument: an RFC 3339 time")
        server.set_clock(clock.args[0])
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", server.clouds_yaml)
    return server
