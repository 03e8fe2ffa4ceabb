"""novakeys: the key pair services of OpenStack, Alibaba, Tencent and TWCC in one binary.

This package ships the ``novakeys`` binary (installed on PATH next to the interpreter) and a
pytest plugin (:mod:`novakeys.pytest_plugin`, loaded automatically) whose ``novakeys`` fixture
runs it. :class:`Server` is the plugin's server handle, usable without pytest too::

    with novakeys.Server.start() as nk:
        conn = nk.connect("demo")
"""

from ._server import NovakeysError, Server, find_binary

__all__ = ["NovakeysError", "Server", "find_binary"]
